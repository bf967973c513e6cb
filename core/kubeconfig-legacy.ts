// The kubeconfigs buildpod's own reader leaves to client-node: users with a legacy auth-provider (oidc,
// azure, gcp) and clusters behind a proxy-url. A module of its own, imported only for them, since
// client-node's KubeConfig brings its whole generated API along (megabytes to load).
import { KubeConfig } from "@kubernetes/client-node/dist/config.js";
import type { ClusterAccess } from "./kubeconfig.js";
import type { ClusterEntry, ContextEntry, UserEntry } from "./kubeconfig-files.js";

export function clientNodeConfig(name: string, ctx: ContextEntry, cluster: ClusterEntry, user: UserEntry): ClusterAccess {
  const kc = new KubeConfig();
  const userName = ctx.user ?? "user";
  kc.loadFromOptions({
    clusters: [{ name: ctx.cluster, ...cluster }],
    users: [{
      name: userName, token: user.token, certFile: user.certFile, certData: user.certData, keyFile: user.keyFile, keyData: user.keyData,
      // client-node reads a token file through its tokenFile auth provider.
      authProvider: user.authProvider ?? (user.tokenFile && !user.token ? { name: "tokenFile", config: { tokenFile: user.tokenFile } } : undefined),
      exec: user.exec, impersonateUser: user.as,
    }],
    contexts: [{ name, cluster: ctx.cluster, user: userName, namespace: ctx.namespace }],
    currentContext: name,
  });
  return kc;
}
