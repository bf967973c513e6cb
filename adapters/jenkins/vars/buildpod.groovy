// buildpod shared-library step: builds a container image on a Kubernetes cluster with `buildpod run`.
//
//   def result = buildpod(image: 'registry.example.com/team/app:1.0', git: 'https://git.example.com/team/app',
//                         ref: 'main', pushSecret: 'regcred', kubeconfigCredentialsId: 'build-cluster')
//   echo "pushed ${result.imageRef}"
//
// Every value reaches the shell through an environment variable (withEnv) and a quoted "$VAR" expansion:
// the script below is a constant, nothing is ever interpolated into it. The result comes back through
// files in the workspace (returnStdout is lost when a command fails), read with readJSON.
import groovy.transform.Field

/** The shell the step runs: a constant, fed only through BUILDPOD_* variables. */
@Field
static final String SCRIPT = '''
set +x
set --
if [ -n "$BUILDPOD_ARG_IMAGE" ]; then set -- "$@" "--image=$BUILDPOD_ARG_IMAGE"; fi
if [ -n "$BUILDPOD_ARG_GIT" ]; then set -- "$@" "--git=$BUILDPOD_ARG_GIT"; fi
if [ -n "$BUILDPOD_ARG_REF" ]; then set -- "$@" "--ref=$BUILDPOD_ARG_REF"; fi
if [ -n "$BUILDPOD_ARG_SOURCE_SECRET" ]; then set -- "$@" "--source-secret=$BUILDPOD_ARG_SOURCE_SECRET"; fi
if [ -n "$BUILDPOD_ARG_FROM_DIR" ]; then set -- "$@" "--from-dir=$BUILDPOD_ARG_FROM_DIR"; fi
if [ -n "$BUILDPOD_ARG_FROM_ARCHIVE" ]; then set -- "$@" "--from-archive=$BUILDPOD_ARG_FROM_ARCHIVE"; fi
if [ -n "$BUILDPOD_ARG_CONTEXT" ]; then set -- "$@" "--context=$BUILDPOD_ARG_CONTEXT"; fi
if [ -n "$BUILDPOD_ARG_DOCKERFILE" ]; then set -- "$@" "--dockerfile=$BUILDPOD_ARG_DOCKERFILE"; fi
if [ -n "$BUILDPOD_ARG_TARGET" ]; then set -- "$@" "--target=$BUILDPOD_ARG_TARGET"; fi
if [ -n "$BUILDPOD_ARG_BUILDER" ]; then set -- "$@" "--builder=$BUILDPOD_ARG_BUILDER"; fi
if [ -n "$BUILDPOD_ARG_NAME" ]; then set -- "$@" "--name=$BUILDPOD_ARG_NAME"; fi
if [ -n "$BUILDPOD_ARG_NAMESPACE" ]; then set -- "$@" "--namespace=$BUILDPOD_ARG_NAMESPACE"; fi
if [ -n "$BUILDPOD_ARG_PUSH_SECRET" ]; then set -- "$@" "--push-secret=$BUILDPOD_ARG_PUSH_SECRET"; fi
if [ "$BUILDPOD_ARG_INSECURE_REGISTRY" = true ]; then set -- "$@" --insecure-registry; fi
if [ -n "$BUILDPOD_ARG_TIMEOUT" ]; then set -- "$@" "--timeout=$BUILDPOD_ARG_TIMEOUT"; fi
if [ -n "$BUILDPOD_ARG_START_TIMEOUT" ]; then set -- "$@" "--start-timeout=$BUILDPOD_ARG_START_TIMEOUT"; fi
if [ -n "$BUILDPOD_KUBECONFIG" ]; then set -- "$@" "--kubeconfig=$BUILDPOD_KUBECONFIG"; fi
if [ -n "$BUILDPOD_ARG_KUBE_CONTEXT" ]; then set -- "$@" "--kube-context=$BUILDPOD_ARG_KUBE_CONTEXT"; fi
if [ -n "$BUILDPOD_ARG_LIST" ]; then
  while IFS= read -r arg; do set -- "$@" "$arg"; done <<BUILDPOD_ARGS
$BUILDPOD_ARG_LIST
BUILDPOD_ARGS
fi
mkdir -p "$BUILDPOD_RESULT_DIR"
rm -f "$BUILDPOD_RESULT_DIR/result.json" "$BUILDPOD_RESULT_DIR/result.env"
set -- "$@" "--result-file=$BUILDPOD_RESULT_DIR/result.json" "--result-env-file=$BUILDPOD_RESULT_DIR/result.env"
exec "$BUILDPOD_COMMAND" run "$@"
'''

/** Step parameter -> the variable the script reads it from. */
@Field
static final Map<String, String> SCALARS = [
    image: 'BUILDPOD_ARG_IMAGE',
    git: 'BUILDPOD_ARG_GIT',
    ref: 'BUILDPOD_ARG_REF',
    sourceSecret: 'BUILDPOD_ARG_SOURCE_SECRET',
    fromDir: 'BUILDPOD_ARG_FROM_DIR',
    fromArchive: 'BUILDPOD_ARG_FROM_ARCHIVE',
    context: 'BUILDPOD_ARG_CONTEXT',
    dockerfile: 'BUILDPOD_ARG_DOCKERFILE',
    target: 'BUILDPOD_ARG_TARGET',
    builder: 'BUILDPOD_ARG_BUILDER',
    name: 'BUILDPOD_ARG_NAME',
    namespace: 'BUILDPOD_ARG_NAMESPACE',
    pushSecret: 'BUILDPOD_ARG_PUSH_SECRET',
    insecureRegistry: 'BUILDPOD_ARG_INSECURE_REGISTRY',
    timeout: 'BUILDPOD_ARG_TIMEOUT',
    startTimeout: 'BUILDPOD_ARG_START_TIMEOUT',
    kubeContext: 'BUILDPOD_ARG_KUBE_CONTEXT',
]

/** Parameters of the step itself, not passed on as options. */
@Field
static final List<String> OWN = [
    'tags', 'buildArgs', 'extraArgs', 'kubeconfigCredentialsId', 'command', 'resultDir', 'failOnError',
]

/** What each exit code of `buildpod run` means, for the error that fails the stage. */
@Field
static final Map<Integer, String> OUTCOMES = [
    1: 'failed',
    2: 'was refused: invalid input',
    3: 'did not start',
    4: 'was cancelled',
    5: 'could not run: buildpod or cluster error',
]

/**
 * Runs a build and returns its result (the JSON of --result-file) as a map: status, reason, message, image,
 * digest, imageRef, source.commit, build, run, namespace, ...
 *
 * Parameters: image (required), tags (list), git, ref, sourceSecret, fromDir, fromArchive, context, dockerfile,
 * target, buildArgs (map), builder, name, namespace, pushSecret, insecureRegistry (boolean), timeout,
 * startTimeout, kubeconfigCredentialsId (a Jenkins "Secret file" credential holding a kubeconfig), kubeContext,
 * extraArgs (list of further `buildpod run` options), command (default 'buildpod'), resultDir (workspace
 * directory for result.json and result.env, default '.buildpod'), failOnError (default true: a build that
 * does not complete fails the stage; false returns its result instead).
 */
Map call(Map args = [:]) {
    for (String key : args.keySet()) {
        if (!SCALARS.containsKey(key) && !OWN.contains(key)) {
            error("buildpod: unknown parameter '${key}'")
        }
    }
    if (!args.image) {
        error('buildpod: the image parameter is required (the image to push, e.g. registry.example.com/team/app:1.0)')
    }

    List<String> env = []
    for (Map.Entry<String, String> e : SCALARS.entrySet()) {
        Object value = args[e.key]
        if (value != null && value != false && value.toString() != '') {
            env << "${e.value}=${value}".toString()
        }
    }
    List<String> list = []
    for (Object tag : (args.tags ?: [])) {
        list << "--tag=${tag}".toString()
    }
    Map buildArgs = args.buildArgs ?: [:]
    for (Object key : buildArgs.keySet()) {
        list << "--build-arg=${key}=${buildArgs[key]}".toString()
    }
    for (Object extra : (args.extraArgs ?: [])) {
        list << extra.toString()
    }
    for (String item : list) {
        if (item.contains('\n') || item.contains('\r')) {
            error('buildpod: tags, buildArgs and extraArgs cannot contain line breaks')
        }
    }
    if (list) {
        env << "BUILDPOD_ARG_LIST=${list.join('\n')}".toString()
    }
    String resultDir = args.resultDir ?: '.buildpod'
    env << "BUILDPOD_RESULT_DIR=${resultDir}".toString()
    env << "BUILDPOD_COMMAND=${args.command ?: 'buildpod'}".toString()

    int status = 0
    withEnv(env) {
        if (args.kubeconfigCredentialsId) {
            withCredentials([file(credentialsId: args.kubeconfigCredentialsId, variable: 'BUILDPOD_KUBECONFIG')]) {
                status = sh(script: SCRIPT, returnStatus: true)
            }
        } else {
            status = sh(script: SCRIPT, returnStatus: true)
        }
    }

    String resultFile = "${resultDir}/result.json"
    Map result = fileExists(resultFile) ? readJSON(file: resultFile) : [:]
    if (status != 0 && args.failOnError != false) {
        String outcome = OUTCOMES[status] ?: "ended with exit code ${status}"
        String detail = result.reason ? " (${result.reason}): ${result.message}" : ': see the log above'
        error("buildpod: the build ${outcome}${detail}")
    }
    return result
}
