// The network section: a private CA and registry settings from ConfigMaps, and a forward proxy, given or
// taken from the environment of the process that starts the build.
import { BUILDERS, buildersWhere, DEFAULT_BUILDER } from "../builders/index.js";
import { InputError } from "../errors.js";
import { dnsSubdomainProblem } from "../names.js";
import { boolean, listItems, object, type Raw, string } from "./read.js";
import { DEFAULTS, type ConfigMapKey, type Network, type Strategy } from "./types.js";

/** "NAME[/KEY]": a ConfigMap in the build's namespace and one of its keys. */
export function configMapKey(value: unknown, path: string, fallbackKey: string): ConfigMapKey | undefined {
  const s = string(value, path);
  if (s === undefined || s === "") return undefined;
  const slash = s.indexOf("/");
  const name = slash < 0 ? s : s.slice(0, slash);
  const key = slash < 0 ? fallbackKey : s.slice(slash + 1);
  const problem = dnsSubdomainProblem(name);
  if (problem) throw new InputError(path, `"${name}" is not a ConfigMap name: ${problem}; write CONFIGMAP or CONFIGMAP/KEY`);
  if (!/^[-._a-zA-Z0-9]+$/.test(key)) throw new InputError(path, `"${key}" is not a valid ConfigMap key; write CONFIGMAP or CONFIGMAP/KEY`);
  return { name, key };
}

/**
 * A proxy URL as builders and Git take it. One with a user or password is refused: it would sit in the
 * pod's environment, which whoever may read the pod sees.
 */
export function proxyUrl(value: string, path: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InputError(path, `"${value}" is not a URL; write it like http://proxy.example.com:3128`);
  }
  if (!["http:", "https:"].includes(url.protocol)) {
    throw new InputError(path, `"${value}" is not an http:// or https:// proxy (Git and the builders reach a proxy over HTTP or HTTPS)`);
  }
  if (url.username || url.password) {
    throw new InputError(path, "carries a user or password, which would sit in the build pod's environment for anyone who may read the pod to see; use a proxy that admits the cluster's nodes by address");
  }
  return value;
}

/** NO_PROXY's items, each once; a list's items may hold several, as NO_PROXY itself does. */
function hostList(value: unknown, path: string): string[] {
  const items = listItems(value).map((v, i) => string(v, `${path}[${i}]`) ?? "");
  const out: string[] = [];
  for (const item of items.flatMap((i) => i.split(/[\s,]+/)).filter(Boolean)) {
    if (!/^[\w.*:[\]/-]+$/.test(item)) throw new InputError(path, `"${item}" is not a host, .domain, IP address or CIDR`);
    if (!out.includes(item)) out.push(item);
  }
  return out;
}

/** The first of NAMES set in ENV (HTTPS_PROXY, then https_proxy), with the name it came by. */
function fromEnv(env: Record<string, string | undefined>, names: string[]): { name: string; value: string } | undefined {
  for (const name of [...names, ...names.map((n) => n.toLowerCase())]) {
    const value = env[name]?.trim();
    if (value) return { name, value };
  }
  return undefined;
}

/**
 * ENV is the environment of the process that starts the build; it is read only when the request asks for
 * it (network.proxyFromEnv), and only where the request names no proxy itself.
 */
export function parseNetwork(raw: Raw | undefined, env: Record<string, string | undefined>): Network {
  const n = object(raw ?? {}, "network")!;
  const given = string(n.proxy, "network.proxy") || undefined;
  let httpProxy = given && proxyUrl(given, "network.proxy");
  let httpsProxy = httpProxy;
  let noProxy = hostList(n.noProxy, "network.noProxy");
  if (boolean(n.proxyFromEnv, "network.proxyFromEnv")) {
    if (!given) {
      const http = fromEnv(env, ["HTTP_PROXY"]);
      const https = fromEnv(env, ["HTTPS_PROXY"]);
      httpProxy = http && proxyUrl(http.value, `network.proxyFromEnv (${http.name})`);
      httpsProxy = https && proxyUrl(https.value, `network.proxyFromEnv (${https.name})`);
    }
    const none = fromEnv(env, ["NO_PROXY"]);
    if (!noProxy.length && none) noProxy = hostList(none.value, `network.proxyFromEnv (${none.name})`);
  }
  return {
    caBundle: configMapKey(n.caBundle, "network.caBundle", DEFAULTS.caBundleKey),
    registriesConf: configMapKey(n.registriesConf, "network.registriesConf", DEFAULTS.registriesConfKey),
    ...(httpProxy ? { httpProxy } : {}),
    ...(httpsProxy ? { httpsProxy } : {}),
    noProxy,
  };
}

/** Where the builder cannot honour a network setting: refused, naming the way out, never ignored. */
export function checkNetwork(n: Network, strategy: Strategy, pushSecret: string | undefined): void {
  const pullSecret = strategy.type === "custom" ? undefined : strategy.pullSecret;
  if (strategy.type === "custom") {
    const proxy = n.httpProxy || n.httpsProxy ? ["HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"].flatMap((x) => [x, x.toLowerCase()]) : [];
    const ours = [...proxy, ...(n.caBundle ? ["SSL_CERT_DIR"] : []), ...(n.registriesConf ? ["CONTAINERS_REGISTRIES_CONF"] : [])];
    const clash = Object.keys(strategy.env).find((name) => ours.includes(name));
    if (clash) throw new InputError(`strategy.env.${clash}`, `is set from the network settings (network.proxy, caBundle, registriesConf), so your value would be replaced; drop it, or the network setting`);
    return;
  }
  if (strategy.type !== "docker") return;
  const b = BUILDERS[strategy.builder];
  const given: [string, unknown][] = [["network.caBundle", n.caBundle], ["network.registriesConf", n.registriesConf],
    ["network.proxy", n.httpProxy ?? n.httpsProxy], ["strategy.pullSecret", pullSecret]];
  const set = given.find(([, v]) => v !== undefined);
  if (b.nodeDaemon && set) {
    throw new InputError(set[0], `does not apply to the ${b.name} builder: the node's Docker daemon pulls and pushes, and its own configuration (certs.d, its proxy settings, its credentials) decides how; configure the daemon, or use ${DEFAULT_BUILDER}`);
  }
  if (n.registriesConf && !b.supports.registriesConf) {
    throw new InputError("network.registriesConf", `the ${b.name} builder does not read a registries.conf; use ${buildersWhere((x) => x.supports.registriesConf).join(" or ")}, or name the mirrored image in the Dockerfile`);
  }
  if (pullSecret && pushSecret && !b.supports.separatePullSecret) {
    throw new InputError("strategy.pullSecret", `the ${b.name} builder reads one credentials file: put the pull and push registries' credentials in one kubernetes.io/dockerconfigjson Secret and give it as output.pushSecret (--push-secret), or use ${buildersWhere((x) => x.supports.separatePullSecret).join(" or ")}`);
  }
}
