// The action's main step. Its first line goes out before the libraries load (action/commands.ts says why),
// once the kubeconfig input's credentials are masked: nothing is printed before that. Then action/step.ts:
// inputs -> request, the build followed in log groups, outputs and a job summary.
import { input, maskCommand, print } from "./commands.js";
import { kubeconfigSecrets } from "./kubeconfig.js";
import { importPart } from "../core/lazy.js";
import { VERSION } from "../core/version.js";

const kubeconfig = input("kubeconfig");
await print(`${(kubeconfig ? kubeconfigSecrets(kubeconfig) : []).map(maskCommand).join("")}buildpod ${VERSION}\n`);
const { main } = await importPart<typeof import("./step.js")>(import.meta.url, "/main/index.js", "../step/index.js", "./step.js");
await main();
