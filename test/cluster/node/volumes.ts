// Materialises a pod's volumes as host directories, the way kubelet's volume plugins would:
// emptyDir (a directory per pod; medium Memory is a plain directory here), secret, configMap, projected and
// downwardAPI (files written with items key->path projection and modes), hostPath, and persistentVolumeClaim
// (a directory per claim under the node's state dir, kept across pods).
import { chmodSync, chownSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import type { V1KeyToPath, V1Pod, V1Volume } from "@kubernetes/client-node";
import type { VolumeSources } from "./runtime.js";
import { fieldRefValue, resourceFieldRefValue } from "./env.js";

/** A volume that cannot be set up yet (missing Secret or ConfigMap): kubelet reports FailedMount and retries. */
export class MountError extends Error {}

export interface HostVolume {
  name: string;
  hostPath: string;
  /** Mounted read-only whatever the volumeMount says (secret, configMap, projected, downwardAPI). */
  readOnly: boolean;
}

export interface VolumeContext {
  pod: V1Pod;
  podDir: string;
  claimsDir: string;
  sources: VolumeSources;
  nodeName: string;
  podIP: string;
  hostIP: string;
}

const DEFAULT_MODE = 0o644;

function safeRelative(p: string): string {
  const n = normalize(p);
  if (n.startsWith("/") || n === ".." || n.startsWith("../")) throw new MountError(`invalid path ${JSON.stringify(p)}`);
  return n;
}

function writeProjected(
  dir: string,
  data: Record<string, Buffer>,
  items: V1KeyToPath[] | undefined,
  defaultMode: number,
  fsGroup: number | undefined,
  what: string,
  optional: boolean,
) {
  const entries: Array<[string, Buffer, number]> = [];
  if (items && items.length > 0) {
    for (const it of items) {
      const v = data[it.key];
      if (v === undefined) {
        if (optional) continue;
        throw new MountError(`configmap references non-existent config key: ${it.key}`.replace("configmap", what));
      }
      entries.push([safeRelative(it.path), v, it.mode ?? defaultMode]);
    }
  } else {
    for (const [k, v] of Object.entries(data)) entries.push([k, v, defaultMode]);
  }
  for (const [rel, content, mode] of entries) {
    const file = join(dir, rel);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
    let m = mode;
    if (fsGroup !== undefined) {
      chownSync(file, 0, fsGroup);
      m |= (mode & 0o400) >> 3; // group may read what the owner may read, as kubelet does with fsGroup
    }
    chmodSync(file, m);
  }
}

function lookup(ctx: VolumeContext, kind: "secret" | "configMap", name: string): Record<string, Buffer> | undefined {
  const ns = ctx.pod.metadata?.namespace ?? "default";
  return kind === "secret" ? ctx.sources.secret(ns, name) : ctx.sources.configMap(ns, name);
}

function notFound(kind: "secret" | "configMap", name: string): MountError {
  return new MountError(`${kind === "secret" ? "secret" : "configmap"} ${JSON.stringify(name)} not found`);
}

/** Set up one volume; throws MountError when a referenced object is missing (the caller retries). */
export function setUpVolume(ctx: VolumeContext, vol: V1Volume): HostVolume {
  const fsGroup = ctx.pod.spec?.securityContext?.fsGroup;
  const base = join(ctx.podDir, "volumes");
  if (vol.emptyDir || (!vol.secret && !vol.configMap && !vol.projected && !vol.downwardAPI && !vol.hostPath &&
    !vol.persistentVolumeClaim && Object.keys(vol).length === 1)) {
    const dir = join(base, "empty-dir", vol.name);
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o777);
    if (fsGroup !== undefined) {
      chownSync(dir, 0, fsGroup);
      chmodSync(dir, 0o2777);
    }
    return { name: vol.name, hostPath: dir, readOnly: false };
  }
  if (vol.hostPath) {
    const p = vol.hostPath.path;
    const type = vol.hostPath.type ?? "";
    if (type === "DirectoryOrCreate") mkdirSync(p, { recursive: true });
    else if (type === "FileOrCreate" && !existsSync(p)) {
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, "");
    } else if (type !== "" && !existsSync(p)) throw new MountError(`hostPath type check failed: ${p} does not exist`);
    return { name: vol.name, hostPath: p, readOnly: false };
  }
  if (vol.persistentVolumeClaim) {
    const ns = ctx.pod.metadata?.namespace ?? "default";
    const dir = join(ctx.claimsDir, ns, vol.persistentVolumeClaim.claimName);
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o777);
    return { name: vol.name, hostPath: dir, readOnly: vol.persistentVolumeClaim.readOnly ?? false };
  }
  const dir = join(base, "files", vol.name);
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  if (vol.secret) {
    const name = vol.secret.secretName ?? "";
    const data = lookup(ctx, "secret", name);
    if (!data) {
      if (vol.secret.optional) return { name: vol.name, hostPath: dir, readOnly: true };
      throw notFound("secret", name);
    }
    writeProjected(dir, data, vol.secret.items, vol.secret.defaultMode ?? DEFAULT_MODE, fsGroup, "secret",
      vol.secret.optional ?? false);
    return { name: vol.name, hostPath: dir, readOnly: true };
  }
  if (vol.configMap) {
    const name = vol.configMap.name ?? "";
    const data = lookup(ctx, "configMap", name);
    if (!data) {
      if (vol.configMap.optional) return { name: vol.name, hostPath: dir, readOnly: true };
      throw notFound("configMap", name);
    }
    writeProjected(dir, data, vol.configMap.items, vol.configMap.defaultMode ?? DEFAULT_MODE, fsGroup, "configmap",
      vol.configMap.optional ?? false);
    return { name: vol.name, hostPath: dir, readOnly: true };
  }
  if (vol.downwardAPI) {
    writeDownward(ctx, dir, vol.downwardAPI.items ?? [], vol.downwardAPI.defaultMode ?? DEFAULT_MODE, fsGroup);
    return { name: vol.name, hostPath: dir, readOnly: true };
  }
  if (vol.projected) {
    const mode = vol.projected.defaultMode ?? DEFAULT_MODE;
    for (const src of vol.projected.sources ?? []) {
      if (src.secret) {
        const name = src.secret.name ?? "";
        const data = lookup(ctx, "secret", name);
        if (!data) {
          if (src.secret.optional) continue;
          throw notFound("secret", name);
        }
        writeProjected(dir, data, src.secret.items, mode, fsGroup, "secret", src.secret.optional ?? false);
      } else if (src.configMap) {
        const name = src.configMap.name ?? "";
        const data = lookup(ctx, "configMap", name);
        if (!data) {
          if (src.configMap.optional) continue;
          throw notFound("configMap", name);
        }
        writeProjected(dir, data, src.configMap.items, mode, fsGroup, "configmap", src.configMap.optional ?? false);
      } else if (src.downwardAPI) {
        writeDownward(ctx, dir, src.downwardAPI.items ?? [], mode, fsGroup);
      } else if (src.serviceAccountToken) {
        // The emulated control plane issues no tokens; a placeholder keeps pods that mount one starting.
        writeProjected(dir, { [src.serviceAccountToken.path]: Buffer.from("buildpod-test-cluster-token") }, undefined,
          mode, fsGroup, "token", false);
      }
    }
    return { name: vol.name, hostPath: dir, readOnly: true };
  }
  throw new MountError(`volume ${JSON.stringify(vol.name)}: this volume type is not supported by the test cluster node`);
}

function writeDownward(
  ctx: VolumeContext,
  dir: string,
  items: NonNullable<NonNullable<V1Volume["downwardAPI"]>["items"]>,
  mode: number,
  fsGroup: number | undefined,
) {
  const data: Record<string, Buffer> = {};
  const keyed: V1KeyToPath[] = [];
  for (const it of items) {
    let value = "";
    if (it.fieldRef) value = fieldRefValue(ctx.pod, it.fieldRef.fieldPath, ctx, true);
    else if (it.resourceFieldRef) value = resourceFieldRefValue(ctx.pod, it.resourceFieldRef);
    data[it.path] = Buffer.from(value);
    keyed.push({ key: it.path, path: it.path, mode: it.mode });
  }
  writeProjected(dir, data, keyed, mode, fsGroup, "downwardAPI", false);
}
