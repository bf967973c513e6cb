// Runs the shared-library step adapters/jenkins/vars/buildpod.groovy outside Jenkins, with stand-ins for the
// pipeline steps it calls (withEnv, withCredentials, file, sh, fileExists, readJSON, error) that behave as
// Jenkins does where it matters: withEnv overlays variables (an empty value removes one), sh runs the script
// with `sh -xe` in the workspace, error ends the step with its message.
//
//   java -cp groovy.jar:groovy-json.jar groovy.ui.GroovyMain harness.groovy STEP INPUT.json OUTPUT.json
//
// INPUT: {"workspace": DIR, "log": FILE (what sh prints), "args": {...step parameters...}, "credentials": {"id": "/path/to/file"}}
// OUTPUT: {"returned": {...}} or {"error": "..."}, and "sh": [{"script": ..., "env": {...}, "status": N}]
import groovy.json.JsonOutput
import groovy.json.JsonSlurper

class StepError extends RuntimeException {
    StepError(String message) { super(message) }
}

File stepFile = new File(this.args[0])
Map input = new JsonSlurper().parse(new File(this.args[1])) as Map
File output = new File(this.args[2])
File workspace = new File(input.workspace as String)

List<Map<String, String>> overlays = []
List<Map> shCalls = []

Closure<Map<String, String>> currentEnv = {
    Map<String, String> env = new LinkedHashMap<>(System.getenv())
    for (Map<String, String> o : overlays) {
        o.each { k, v -> if (v == null || v == '') { env.remove(k) } else { env[k] = v } }
    }
    env
}

Binding binding = new Binding()
binding.setVariable('withEnv', { List<String> vars, Closure body ->
    Map<String, String> o = [:]
    vars.each { String kv -> int i = kv.indexOf('='); o[kv.substring(0, i)] = kv.substring(i + 1) }
    overlays << o
    try { body.call() } finally { overlays.remove(overlays.size() - 1) }
})
binding.setVariable('file', { Map m -> [kind: 'file'] + m })
binding.setVariable('withCredentials', { List bindings, Closure body ->
    Map<String, String> o = [:]
    bindings.each { Map b ->
        String path = (input.credentials as Map ?: [:])[b.credentialsId]
        if (path == null) { throw new StepError("ERROR: Could not find credentials entry with ID '${b.credentialsId}'") }
        o[b.variable as String] = path
    }
    overlays << o
    try { body.call() } finally { overlays.remove(overlays.size() - 1) }
})
binding.setVariable('sh', { Map m ->
    Map<String, String> env = currentEnv()
    ProcessBuilder pb = new ProcessBuilder('sh', '-xe', '-c', m.script as String).directory(workspace)
    pb.environment().clear()
    pb.environment().putAll(env)
    pb.redirectErrorStream(true)
    pb.redirectOutput(ProcessBuilder.Redirect.appendTo(new File(input.log as String)))
    int status = pb.start().waitFor()
    Map<String, String> set = [:]
    overlays.each { o -> set.putAll(o) }
    shCalls << [script: m.script, env: set, status: status]
    if (!m.returnStatus && status != 0) { throw new StepError("script returned exit code ${status}") }
    m.returnStatus ? status : null
})
binding.setVariable('fileExists', { String path -> new File(workspace, path).exists() })
binding.setVariable('readJSON', { Map m -> new JsonSlurper().parse(new File(workspace, m.file as String)) })
binding.setVariable('error', { String message -> throw new StepError(message) })

Script step = new GroovyShell(binding).parse(stepFile)
Map out = [:]
try {
    out.returned = step.invokeMethod('call', [input.args as Map] as Object[])
} catch (StepError e) {
    out.error = e.message
}
out.sh = shCalls
output.text = JsonOutput.toJson(out)
