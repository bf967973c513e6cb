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

/**
 * The shell the step runs: a constant. Its arguments arrive one per variable, BUILDPOD_ARGV_0 to
 * BUILDPOD_ARGV_<BUILDPOD_ARGC - 1>, read with printenv, so any value (line breaks included) stays one argument.
 */
@Field
static final String SCRIPT = '''
set +x
set --
i=0
while [ "$i" -lt "$BUILDPOD_ARGC" ]; do
  # $(...) drops trailing newlines: the x after printenv's own newline keeps the value's.
  arg=$(printenv "BUILDPOD_ARGV_$i"; printf x)
  set -- "$@" "${arg%?x}"
  i=$((i + 1))
done
if [ -n "$BUILDPOD_KUBECONFIG" ]; then set -- "$@" "--kubeconfig=$BUILDPOD_KUBECONFIG"; fi
mkdir -p "$BUILDPOD_RESULT_DIR"
rm -f "$BUILDPOD_RESULT_DIR/result.json" "$BUILDPOD_RESULT_DIR/result.env"
set -- "$@" "--result-file=$BUILDPOD_RESULT_DIR/result.json" "--result-env-file=$BUILDPOD_RESULT_DIR/result.env"
exec "$BUILDPOD_COMMAND" run "$@"
'''

/**
 * Step parameter -> [the `buildpod run` option, its kind]: one per field of the request's field table
 * (core/request/fields.ts; a test checks this map against it). Kinds: string, boolean (true passes the
 * option), negated (false passes the option: push: false is --no-push), list (a List, one option per item), map (a Map, one KEY=VALUE option per entry), object (JSON
 * or YAML text).
 */
@Field
static final Map<String, List<String>> OPTIONS = [
    name: ['--name', 'string'],
    namespace: ['--namespace', 'string'],
    pod: ['--pod', 'boolean'],
    buildLabels: ['--build-label', 'map'],
    git: ['--git', 'string'],
    ref: ['--ref', 'string'],
    depth: ['--depth', 'string'],
    sourceSecret: ['--source-secret', 'string'],
    fromDir: ['--from-dir', 'string'],
    fromArchive: ['--from-archive', 'string'],
    context: ['--context', 'string'],
    inlineDockerfile: ['--inline-dockerfile', 'string'],
    sourceDateEpoch: ['--source-date-epoch', 'string'],
    strategy: ['--strategy', 'string'],
    builder: ['--builder', 'string'],
    dockerfile: ['--dockerfile', 'string'],
    target: ['--target', 'string'],
    buildArgs: ['--build-arg', 'map'],
    secrets: ['--secret', 'list'],
    pullSecret: ['--pull-secret', 'string'],
    builderImage: ['--builder-image', 'string'],
    allowDockerSocket: ['--allow-docker-socket', 'boolean'],
    incremental: ['--incremental', 'boolean'],
    scriptsUrl: ['--scripts-url', 'string'],
    env: ['--env', 'map'],
    exposeDockerSocket: ['--expose-docker-socket', 'boolean'],
    image: ['--image', 'string'],
    push: ['--no-push', 'negated'],
    tags: ['--tag', 'list'],
    pushSecret: ['--push-secret', 'string'],
    insecureRegistry: ['--insecure-registry', 'boolean'],
    labels: ['--label', 'map'],
    annotations: ['--annotation', 'map'],
    platforms: ['--platform', 'list'],
    provenance: ['--provenance', 'string'],
    cache: ['--cache', 'string'],
    cacheMode: ['--cache-mode', 'string'],
    caBundle: ['--ca-bundle', 'string'],
    registriesConf: ['--registries-conf', 'string'],
    proxy: ['--proxy', 'string'],
    noProxy: ['--no-proxy', 'list'],
    proxyFromEnv: ['--proxy-from-env', 'boolean'],
    cpuRequest: ['--cpu-request', 'string'],
    cpuLimit: ['--cpu-limit', 'string'],
    memoryRequest: ['--memory-request', 'string'],
    memoryLimit: ['--memory-limit', 'string'],
    ephemeralStorageRequest: ['--ephemeral-storage-request', 'string'],
    ephemeralStorageLimit: ['--ephemeral-storage-limit', 'string'],
    timeout: ['--timeout', 'string'],
    startTimeout: ['--start-timeout', 'string'],
    uploadTimeout: ['--upload-timeout', 'string'],
    retries: ['--retries', 'string'],
    deleteAfter: ['--delete-after', 'string'],
    nodeSelector: ['--node-selector', 'map'],
    tolerations: ['--toleration', 'list'],
    emulate: ['--emulate', 'boolean'],
    serviceAccount: ['--service-account', 'string'],
    priorityClass: ['--priority-class', 'string'],
    runtimeClass: ['--runtime-class', 'string'],
    affinity: ['--affinity', 'object'],
    sourceImage: ['--source-image', 'string'],
    buildahImage: ['--buildah-image', 'string'],
    buildkitImage: ['--buildkit-image', 'string'],
    kanikoImage: ['--kaniko-image', 'string'],
    dockerImage: ['--docker-image', 'string'],
    imagePullSecrets: ['--image-pull-secret', 'list'],
]

/** Parameters that are options of the command, not fields of the request. */
@Field
static final Map<String, String> COMMAND_OPTIONS = [
    file: '--file',
    kubeContext: '--kube-context',
]

/** Parameters of the step itself, not passed on as options. */
@Field
static final List<String> OWN = [
    'extraArgs', 'kubeconfigCredentialsId', 'command', 'resultDir', 'failOnError',
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
 * Parameters: every `buildpod run` request option, named in camel case (OPTIONS: image, git, ref, tags (list),
 * buildArgs (map), pushSecret, insecureRegistry (boolean), memoryLimit, affinity (JSON or YAML text), ...);
 * file (a build file in the workspace; parameters override it); kubeconfigCredentialsId (a Jenkins "Secret
 * file" credential holding a kubeconfig); kubeContext; extraArgs (list of further `buildpod run` options);
 * command (default 'buildpod'); resultDir (workspace directory for result.json and result.env, default
 * '.buildpod'); failOnError (default true: a build that does not complete fails the stage; false returns its
 * result instead).
 */
Map call(Map args = [:]) {
    for (String key : args.keySet()) {
        if (!OPTIONS.containsKey(key) && !COMMAND_OPTIONS.containsKey(key) && !OWN.contains(key)) {
            error("buildpod: unknown parameter '${key}'")
        }
    }
    if (!args.image && !args.file) {
        error('buildpod: the image parameter is required (the image to push, e.g. registry.example.com/team/app:1.0), or a build file that names it')
    }

    List<String> argv = []
    for (Map.Entry<String, List<String>> e : OPTIONS.entrySet()) {
        argv.addAll(optionArgs(e.key, e.value[0], e.value[1], args[e.key]))
    }
    for (Map.Entry<String, String> e : COMMAND_OPTIONS.entrySet()) {
        argv.addAll(optionArgs(e.key, e.value, 'string', args[e.key]))
    }
    for (Object extra : (args.extraArgs ?: [])) {
        argv << extra.toString()
    }
    List<String> env = ["BUILDPOD_ARGC=${argv.size()}".toString()]
    argv.eachWithIndex { String arg, int i -> env << "BUILDPOD_ARGV_${i}=${arg}".toString() }
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

/** The command's arguments for one parameter's value; a value of the wrong shape stops the step. */
List<String> optionArgs(String param, String flag, String kind, Object value) {
    if (value == null || value == '') {
        return []
    }
    if (kind == 'boolean' || kind == 'negated') {
        if (!(value.toString() in ['true', 'false'])) {
            error("buildpod: ${param} must be true or false, not '${value}'")
        }
        return value.toString() == (kind == 'boolean' ? 'true' : 'false') ? [flag] : []
    }
    if (kind == 'list') {
        return (value instanceof List ? value : [value]).collect { item -> "${flag}=${item}".toString() }
    }
    if (kind == 'map') {
        if (!(value instanceof Map)) {
            error("buildpod: ${param} must be a map, e.g. ${param}: [KEY: 'value']")
        }
        return value.collect { k, v -> "${flag}=${k}=${v}".toString() }
    }
    if (value instanceof Map || value instanceof List) {
        error("buildpod: ${param} takes text${kind == 'object' ? ' (JSON or YAML)' : ''}, not a ${value instanceof Map ? 'map' : 'list'}")
    }
    return ["${flag}=${value}".toString()]
}
