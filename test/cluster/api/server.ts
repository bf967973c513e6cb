// The HTTPS surface: authentication, authorization, discovery, REST and watch for every resource, pods/log,
// pods/exec and pods/attach, selfsubjectaccessreviews, and the /_test control endpoints.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import { Cluster, now, type DeleteOptions } from "./cluster.js";
import { ApiError, badRequest, forbidden, internalError, methodNotAllowed, notFound, tooManyRequests, unauthorized, type V1StatusBody } from "./errors.js";
import { runSession, pickProtocol } from "./exec.js";
import type { Faults, Stats } from "./faults.js";
import { pickContainer, streamLog, waitingError, type LogQuery } from "./logs.js";
import { allowed, type Policy } from "./policy.js";
import { apiGroup, apiGroupList, apiResourceList, apiVersionOf, apiVersions, findResource, groups, versionInfo, type ResourceDef } from "./resources.js";
import { matchFields, matchLabels, parseFieldSelector, parseLabelSelector, type FieldRequirement, type LabelRequirement } from "./selectors.js";
import type { Obj, StoreEvent } from "./store.js";
import { applyPatch } from "./patch.js";
import { decodeProtobuf } from "./proto.js";
import { openapiDoc, openapiRoot } from "./openapi.js";
import { toTable, wantsTable } from "./table.js";

export interface ServerContext {
  cluster: Cluster;
  policy: Policy;
  tokens: Map<string, string>;
  faults: Faults;
  stats: Stats;
  address: () => string;
}

interface Route {
  def: ResourceDef;
  namespace?: string;
  name?: string;
  sub?: string;
}

/** The request is handled as usual, but its answer never leaves: the connection breaks instead. */
function loseAnswer(req: IncomingMessage, res: ServerResponse): void {
  const cut = () => {
    req.socket.destroy();
    return res;
  };
  res.writeHead = cut as typeof res.writeHead;
  res.write = (() => (cut(), false)) as typeof res.write;
  res.end = cut as typeof res.end;
}

function sendJson(res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text), "Cache-Control": "no-cache, private", ...headers });
  res.end(text);
}

function sendError(res: ServerResponse, e: unknown): void {
  const err = e instanceof ApiError ? e : internalError((e as Error)?.message ?? String(e));
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, err.code, err.body(), err.headers);
}

function rawError(socket: Duplex, e: unknown): void {
  const err = e instanceof ApiError ? e : internalError((e as Error)?.message ?? String(e));
  const text = JSON.stringify(err.body());
  const reason = { 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 429: "Too Many Requests", 500: "Internal Server Error" }[err.code] ?? "Error";
  const extra = Object.entries(err.headers).map(([k, v]) => `${k}: ${v}\r\n`).join("");
  socket.end(`HTTP/1.1 ${err.code} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n${extra}Connection: close\r\n\r\n${text}`);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function readJson(req: IncomingMessage): Promise<Obj> {
  const b = await readBody(req);
  if (b.length === 0) return {};
  if ((req.headers["content-type"] ?? "").startsWith("application/vnd.kubernetes.protobuf")) return decodeProtobuf(b);
  try {
    const v = JSON.parse(b.toString());
    if (v === null || typeof v !== "object") throw new Error("not an object");
    return v;
  } catch (e) {
    throw badRequest(`the object provided is unrecognized: ${(e as Error).message}`);
  }
}

function parseRoute(path: string): Route | "discovery" | undefined {
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  let group = "";
  let version: string;
  let rest: string[];
  if (parts[0] === "api") {
    if (parts.length <= 2) return "discovery";
    version = parts[1];
    rest = parts.slice(2);
  } else if (parts[0] === "apis") {
    if (parts.length <= 3) return "discovery";
    group = parts[1];
    version = parts[2];
    rest = parts.slice(3);
  } else return undefined;
  let namespace: string | undefined;
  let resource: string;
  let name: string | undefined;
  let sub: string | undefined;
  if (rest[0] === "namespaces" && rest.length >= 3 && group + rest[2] !== "") {
    namespace = rest[1];
    [resource, name, sub] = [rest[2], rest[3], rest[4]];
    if (rest.length > 5) return undefined;
  } else {
    [resource, name, sub] = [rest[0], rest[1], rest[2]];
    if (rest.length > 3) return undefined;
  }
  const def = findResource(group, version, resource);
  if (!def) return undefined;
  if (def.resource === "namespaces" && namespace !== undefined) return undefined;
  if (!def.namespaced && namespace !== undefined) return undefined;
  return { def, namespace, name, sub };
}

function verbOf(method: string, route: Route, watch: boolean): string {
  switch (method) {
    case "GET":
    case "HEAD":
      if (route.sub === "exec" || route.sub === "attach") return "create";
      return route.name ? "get" : watch ? "watch" : "list";
    case "POST":
      return "create";
    case "PUT":
      return "update";
    case "PATCH":
      return "patch";
    case "DELETE":
      return route.name ? "delete" : "deletecollection";
    default:
      return method.toLowerCase();
  }
}

function bool(v: string | null): boolean {
  return v === "true" || v === "1";
}

function int(v: string | null): number | undefined {
  if (v === null || v === "") return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw badRequest(`invalid integer value "${v}"`);
  return n;
}

function withKind(def: ResourceDef, o: Obj): Obj {
  const { kind: _k, apiVersion: _a, ...rest } = o;
  return { kind: def.kind, apiVersion: apiVersionOf(def), ...rest };
}

function includeObject(q: URLSearchParams): "Object" | "Metadata" | "None" {
  const v = q.get("includeObject");
  return v === "Object" || v === "None" ? v : "Metadata";
}

function stripKind(o: Obj): Obj {
  const { kind: _k, apiVersion: _a, ...rest } = o;
  return rest;
}

export class ApiHandler {
  private wss = new WebSocketServer({ noServer: true, handleProtocols: (p) => pickProtocol(p) });
  private openWatches = new Set<() => void>();

  constructor(private ctx: ServerContext) {
    ctx.faults.dropAll = () => {
      const n = this.openWatches.size;
      for (const end of [...this.openWatches]) end();
      return n;
    };
    ctx.faults.compact = () => ctx.cluster.store.compact();
  }

  close(): void {
    for (const end of [...this.openWatches]) end();
    for (const c of this.wss.clients) c.terminate();
    this.wss.close();
  }

  private user(req: IncomingMessage): string {
    const h = req.headers.authorization ?? "";
    const m = /^Bearer\s+(.+)$/i.exec(h);
    const u = m ? this.ctx.tokens.get(m[1].trim()) : undefined;
    if (!u) throw unauthorized();
    return u;
  }

  private authorize(user: string, verb: string, route: Route): void {
    const a = { verb, group: route.def.group, resource: route.def.resource, subresource: route.sub, namespace: route.def.resource === "namespaces" ? route.name : route.namespace, name: route.name };
    if (!allowed(this.ctx.policy, a)) throw forbidden(route.def, route.name, user, verb, route.sub, route.namespace);
  }

  /** Faults that apply before handling: delay, 429, 500. */
  private async preFaults(method: string, path: string, verb: string): Promise<void> {
    const info = { method, path, verb };
    const delay = this.ctx.faults.take("delay", info);
    if (delay) await new Promise((r) => setTimeout(r, delay.ms));
    const tmr = this.ctx.faults.take("tooManyRequests", info);
    if (tmr) throw tooManyRequests(tmr.retryAfterSeconds ?? 1);
    const err = this.ctx.faults.take("error", info);
    if (err) {
      const code = err.status ?? 500;
      if (code === 500) throw internalError(err.message ?? "injected fault");
      throw new ApiError(code, code === 503 ? "ServiceUnavailable" : "InternalError", err.message ?? "injected fault");
    }
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "https://localhost");
    const path = url.pathname.replace(/\/+$/, "") || "/";
    const method = req.method ?? "GET";
    try {
      if (path.startsWith("/_test/")) return await this.control(req, res, path, method);
      const route = parseRoute(path);
      const isWatch = bool(url.searchParams.get("watch"));
      const verb = route && route !== "discovery" ? verbOf(method, route, isWatch) : method === "GET" ? "get" : method.toLowerCase();
      const resourceName = route && route !== "discovery" ? (route.sub ? `${route.def.resource}/${route.sub}` : route.def.resource) : undefined;
      this.ctx.stats.count(method, path, verb, resourceName);
      const user = this.user(req);
      await this.preFaults(method, path, verb);
      if (this.ctx.faults.take("loseAnswer", { method, path, verb })) loseAnswer(req, res);
      if (route === undefined) return this.nonResource(req, res, path);
      if (route === "discovery") return this.discovery(res, path);
      this.authorize(user, verb, route);
      await this.resource(req, res, url, route, verb, user);
    } catch (e) {
      sendError(res, e);
    }
  }

  private nonResource(req: IncomingMessage, res: ServerResponse, path: string): void {
    if (path === "/version") return sendJson(res, 200, versionInfo);
    if (["/healthz", "/livez", "/readyz"].includes(path)) {
      res.writeHead(200, { "Content-Type": "text/plain" });
      return void res.end("ok");
    }
    if (path === "/openapi/v3") return sendJson(res, 200, openapiRoot());
    if (path.startsWith("/openapi/v3/")) {
      const doc = openapiDoc(path.slice("/openapi/v3/".length));
      if (doc) return sendJson(res, 200, doc);
    }
    void req;
    throw new ApiError(404, "NotFound", "the server could not find the requested resource", {});
  }

  private discovery(res: ServerResponse, path: string): void {
    if (path === "/api") return sendJson(res, 200, apiVersions(this.ctx.address()));
    if (path === "/api/v1") return sendJson(res, 200, apiResourceList("", "v1"));
    if (path === "/apis") return sendJson(res, 200, apiGroupList());
    const m = /^\/apis\/([^/]+)(?:\/([^/]+))?$/.exec(path);
    if (m && groups.includes(m[1])) {
      if (!m[2]) return sendJson(res, 200, { kind: "APIGroup", apiVersion: "v1", ...apiGroup(m[1]) });
      if (m[2] === "v1") return sendJson(res, 200, apiResourceList(m[1], "v1"));
    }
    throw new ApiError(404, "NotFound", "the server could not find the requested resource", {});
  }

  private async resource(req: IncomingMessage, res: ServerResponse, url: URL, route: Route, verb: string, user: string): Promise<void> {
    const { cluster } = this.ctx;
    const store = cluster.store;
    const { def, namespace, name, sub } = route;
    const q = url.searchParams;
    const dryRun = q.getAll("dryRun").includes("All");

    if (def.resource === "selfsubjectaccessreviews") {
      if (verb !== "create") throw methodNotAllowed();
      const body = await readJson(req);
      const ra = body.spec?.resourceAttributes;
      let ok = true;
      if (ra) {
        ok = allowed(this.ctx.policy, { verb: ra.verb ?? "", group: ra.group ?? "", resource: ra.resource ?? "", subresource: ra.subresource || undefined, namespace: ra.namespace || undefined, name: ra.name || undefined });
      } else if (body.spec?.nonResourceAttributes) {
        ok = !this.ctx.policy.rules;
      }
      const status: Obj = { allowed: ok };
      if (ok) status.reason = "allowed by the test cluster's policy";
      return sendJson(res, 201, { kind: "SelfSubjectAccessReview", apiVersion: "authorization.k8s.io/v1", metadata: { creationTimestamp: null }, spec: body.spec ?? {}, status });
    }

    if (sub) {
      if (!name) throw new ApiError(404, "NotFound", "the server could not find the requested resource", {});
      if (def.resource === "pods" && sub === "log") return this.podLog(res, namespace!, name, q);
      if (def.resource === "pods" && (sub === "exec" || sub === "attach")) {
        throw badRequest("Upgrade request required");
      }
      if (sub !== "status" || !def.subresources?.some((s) => s.name === "status")) {
        throw new ApiError(404, "NotFound", "the server could not find the requested resource", {});
      }
    }

    if (!sub && !def.verbs.includes(verb)) throw methodNotAllowed();
    switch (verb) {
      case "get": {
        const o = store.get(def.resource, namespace, name!);
        if (!o) throw notFound(def, name!);
        if (wantsTable(req)) return sendJson(res, 200, toTable(def, [o], store.currentRv(), false, includeObject(q)));
        return sendJson(res, 200, withKind(def, o));
      }
      case "list": {
        const filter = this.filter(def, q);
        let items = store.list(def.resource, namespace).filter(filter.match);
        items.sort((a, b) => `${a.metadata.namespace ?? ""}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace ?? ""}/${b.metadata.name}`));
        const rv = String(store.currentRv());
        const listMeta: Obj = { resourceVersion: rv };
        const limit = int(q.get("limit"));
        const cont = q.get("continue");
        let start = 0;
        if (cont) {
          try {
            start = JSON.parse(Buffer.from(cont, "base64url").toString()).start;
          } catch {
            throw badRequest("continue key is not valid");
          }
        }
        items = items.slice(start);
        if (limit && limit > 0 && items.length > limit) {
          listMeta.continue = Buffer.from(JSON.stringify({ start: start + limit, rv })).toString("base64url");
          listMeta.remainingItemCount = items.length - limit;
          items = items.slice(0, limit);
        }
        if (wantsTable(req)) {
          const t = toTable(def, items, store.currentRv(), true, includeObject(q));
          (t as Obj).metadata = listMeta;
          return sendJson(res, 200, t);
        }
        return sendJson(res, 200, { kind: def.listKind, apiVersion: apiVersionOf(def), metadata: listMeta, items: items.map(stripKind) });
      }
      case "watch":
        return this.watch(req, res, url, route);
      case "create": {
        if (name) throw methodNotAllowed();
        const body = await readJson(req);
        this.checkKind(def, body);
        const o = cluster.create(def, namespace, body, dryRun);
        return sendJson(res, 201, withKind(def, o));
      }
      case "update":
      case "patch": {
        const cur = store.get(def.resource, namespace, name!);
        if (!cur) throw notFound(def, name!);
        let next: Obj;
        if (verb === "update") {
          next = await readJson(req);
          this.checkKind(def, next);
          if (next.metadata?.name && next.metadata.name !== name) throw badRequest(`the name of the object (${next.metadata.name}) does not match the name on the URL (${name})`);
          if (next.metadata?.resourceVersion && next.metadata.resourceVersion !== cur.metadata.resourceVersion) {
            const { conflict } = await import("./errors.js");
            throw conflict(def, name!);
          }
        } else {
          const ct = (req.headers["content-type"] ?? "").split(";")[0].trim();
          const patch = await readBody(req);
          next = applyPatch(withKind(def, cur), patch, ct);
          if (next.metadata?.resourceVersion && next.metadata.resourceVersion !== cur.metadata.resourceVersion) {
            const { conflict } = await import("./errors.js");
            throw conflict(def, name!);
          }
        }
        next = stripKind(next);
        next.metadata = { ...next.metadata, name: cur.metadata.name, uid: cur.metadata.uid, creationTimestamp: cur.metadata.creationTimestamp, resourceVersion: cur.metadata.resourceVersion };
        if (cur.metadata.namespace) next.metadata.namespace = cur.metadata.namespace;
        if (cur.metadata.deletionTimestamp) next.metadata.deletionTimestamp = cur.metadata.deletionTimestamp;
        if (sub === "status") {
          next = { ...cur, status: next.status };
        } else if (cur.status !== undefined && !["events", "secrets", "configmaps", "serviceaccounts"].includes(def.resource)) {
          next.status = cur.status;
        }
        if (def.resource === "pods") next.spec.nodeName = cur.spec.nodeName;
        if (def.resource === "secrets" && next.stringData) {
          next.data ??= {};
          for (const [k, v] of Object.entries(next.stringData)) next.data[k] = Buffer.from(String(v)).toString("base64");
          delete next.stringData;
        }
        if (dryRun) return sendJson(res, 200, withKind(def, next));
        const o = store.update(def.resource, next);
        if (def.resource === "pods") cluster.kickScheduler();
        return sendJson(res, 200, withKind(def, o));
      }
      case "delete": {
        const opts = await this.deleteOptions(req, q);
        const out = cluster.delete(def, namespace, name!, opts);
        return sendJson(res, 200, (out as V1StatusBody).kind === "Status" ? out : withKind(def, out));
      }
      case "deletecollection": {
        const opts = await this.deleteOptions(req, q);
        const filter = this.filter(def, q);
        const items = store.list(def.resource, namespace).filter(filter.match);
        for (const o of items) {
          try {
            cluster.delete(def, o.metadata.namespace, o.metadata.name, opts);
          } catch (e) {
            if (!(e instanceof ApiError && e.code === 404)) throw e;
          }
        }
        return sendJson(res, 200, { kind: def.listKind, apiVersion: apiVersionOf(def), metadata: { resourceVersion: String(store.currentRv()) }, items: items.map(stripKind) });
      }
    }
    void user;
    throw methodNotAllowed();
  }

  private checkKind(def: ResourceDef, body: Obj): void {
    if (body.kind && body.kind !== def.kind) {
      throw badRequest(`the API version in the data (${body.apiVersion}) does not match the expected API version (${apiVersionOf(def)})`);
    }
  }

  private async deleteOptions(req: IncomingMessage, q: URLSearchParams): Promise<DeleteOptions> {
    const body = await readJson(req);
    const opts: DeleteOptions = {};
    const grace = int(q.get("gracePeriodSeconds")) ?? body.gracePeriodSeconds;
    if (grace !== undefined && grace !== null) opts.gracePeriodSeconds = grace;
    const pp = q.get("propagationPolicy") ?? body.propagationPolicy;
    if (pp) {
      if (!["Background", "Foreground", "Orphan"].includes(pp)) throw badRequest(`propagationPolicy: Unsupported value: "${pp}"`);
      opts.propagationPolicy = pp;
    } else if (body.orphanDependents === false || q.get("orphanDependents") === "false") opts.propagationPolicy = "Background";
    else if (body.orphanDependents === true || q.get("orphanDependents") === "true") opts.propagationPolicy = "Orphan";
    if (body.preconditions) opts.preconditions = body.preconditions;
    return opts;
  }

  private filter(def: ResourceDef, q: URLSearchParams): { labels: LabelRequirement[]; fields: FieldRequirement[]; match: (o: Obj) => boolean } {
    const labels = parseLabelSelector(q.get("labelSelector"));
    const supported = ["metadata.name", "metadata.namespace", ...(def.fields ?? [])];
    const fields = parseFieldSelector(q.get("fieldSelector"), supported, def.kind);
    return { labels, fields, match: (o: Obj) => matchLabels(labels, o.metadata?.labels) && matchFields(fields, o) };
  }

  private watch(req: IncomingMessage, res: ServerResponse, url: URL, route: Route): void {
    const { store } = this.ctx.cluster;
    const q = url.searchParams;
    const { def, namespace } = route;
    const filter = this.filter(def, q);
    const info = { method: req.method ?? "GET", path: url.pathname, verb: "watch" };
    const table = wantsTable(req);
    const gone = this.ctx.faults.take("watchGone", info);
    const rvParam = q.get("resourceVersion");
    const timeoutSeconds = int(q.get("timeoutSeconds")) ?? 1800;
    const bookmarks = bool(q.get("allowWatchBookmarks"));
    const initialEvents = bool(q.get("sendInitialEvents"));
    if (gone?.as === "http") {
      throw new ApiError(410, "Expired", `too old resource version: ${rvParam ?? 0} (${store.currentRv()})`);
    }
    res.writeHead(200, { "Content-Type": table ? "application/json;as=Table;v=v1;g=meta.k8s.io" : "application/json", "Cache-Control": "no-cache, private", "Transfer-Encoding": "chunked" });
    res.flushHeaders();
    const line = (o: object) => res.write(JSON.stringify(o) + "\n");
    const errorEvent = (e: ApiError) => {
      line({ type: "ERROR", object: e.body() });
      res.end();
    };
    if (gone) return errorEvent(new ApiError(410, "Expired", `too old resource version: ${rvParam ?? 0} (${store.currentRv()})`));

    const dropFault = this.ctx.faults.take("dropWatch", info);
    let sent = 0;
    let ended = false;
    const wire = (o: Obj) => (table ? toTable(def, [o], Number(o.metadata.resourceVersion), false, includeObject(q)) : withKind(def, o));
    const emit = (type: string, o: Obj) => {
      if (ended) return;
      line({ type, object: wire(o) });
      sent++;
      if (dropFault && sent >= dropFault.afterEvents) end(true);
    };
    const translate = (e: StoreEvent) => {
      const cur = filter.match(e.object);
      if (e.type === "ADDED") return cur && emit("ADDED", e.object);
      if (e.type === "DELETED") return cur && emit("DELETED", e.object);
      const before = e.previous ? filter.match(e.previous) : false;
      if (before && cur) emit("MODIFIED", e.object);
      else if (!before && cur) emit("ADDED", e.object);
      else if (before && !cur) emit("DELETED", e.object);
    };
    let unwatch = () => {};
    let timer: NodeJS.Timeout | undefined;
    let bookmarkTimer: NodeJS.Timeout | undefined;
    const end = (abrupt = false) => {
      if (ended) return;
      ended = true;
      unwatch();
      clearTimeout(timer);
      clearInterval(bookmarkTimer);
      this.openWatches.delete(endFn);
      // Abrupt: close the connection without the final chunk, after what was written has left.
      if (abrupt) res.socket?.end();
      else res.end();
    };
    const endFn = () => end(true);
    this.openWatches.add(endFn);
    req.on("close", () => end());
    res.on("close", () => end());

    let replay: StoreEvent[] = [];
    const fromStart = !rvParam || rvParam === "0" || initialEvents;
    if (!fromStart) {
      const from = Number(rvParam);
      if (!Number.isFinite(from)) return errorEvent(badRequest(`invalid resource version "${rvParam}"`));
      try {
        replay = store.eventsSince(def.resource, namespace, from);
      } catch (e) {
        this.openWatches.delete(endFn);
        ended = true;
        return errorEvent(e as ApiError);
      }
    }
    const initial = fromStart ? store.list(def.resource, namespace).filter(filter.match) : [];
    unwatch = store.addWatcher({ resource: def.resource, namespace, onEvent: translate });
    if (dropFault && dropFault.afterEvents === 0) return end(true);
    for (const o of initial) emit("ADDED", o);
    if (initialEvents && bookmarks && !ended) {
      line({ type: "BOOKMARK", object: { kind: def.kind, apiVersion: apiVersionOf(def), metadata: { resourceVersion: String(store.currentRv()), annotations: { "k8s.io/initial-events-end": "true" } } } });
    }
    for (const e of replay) translate(e);
    timer = setTimeout(() => end(), timeoutSeconds * 1000);
    if (bookmarks) {
      bookmarkTimer = setInterval(() => {
        if (!ended) line({ type: "BOOKMARK", object: { kind: def.kind, apiVersion: apiVersionOf(def), metadata: { resourceVersion: String(store.currentRv()) } } });
      }, 5000);
    }
  }

  private async podLog(res: ServerResponse, namespace: string, name: string, q: URLSearchParams): Promise<void> {
    const { cluster } = this.ctx;
    const pod = cluster.store.get("pods", namespace, name);
    if (!pod) throw notFound({ resource: "pods", group: "" }, name);
    const lq: LogQuery = {
      container: q.get("container") || undefined,
      follow: bool(q.get("follow")),
      timestamps: bool(q.get("timestamps")),
      previous: bool(q.get("previous")),
      sinceTime: q.get("sinceTime") || undefined,
      sinceSeconds: int(q.get("sinceSeconds")),
      tailLines: int(q.get("tailLines")),
      limitBytes: int(q.get("limitBytes")),
    };
    if (lq.sinceTime && lq.sinceSeconds !== undefined) throw badRequest("at most one of `sinceTime` or `sinceSeconds` may be specified");
    const container = pickContainer(pod, lq.container);
    if (lq.previous) throw badRequest(`previous terminated container "${container}" in pod "${name}" not found`);
    const waiting = waitingError(pod, container);
    if (waiting) throw waiting;
    const running = cluster.runtimeOf(pod);
    const path = running?.logPath(container);
    if (!path) throw badRequest(`container "${container}" in pod "${name}" is waiting to start: ContainerCreating`);
    const cutFault = this.ctx.faults.take("cutLog", { method: "GET", path: `/api/v1/namespaces/${namespace}/pods/${name}/log`, verb: "get" });
    await streamLog(
      res,
      {
        currentPod: () => {
          const p = cluster.store.get("pods", namespace, name);
          return p && p.metadata.uid === pod.metadata.uid ? p : undefined;
        },
        logPath: (c) => running?.logPath(c),
      },
      container,
      path,
      lq,
      cutFault ? { afterBytes: cutFault.afterBytes, mode: cutFault.mode ?? "destroy" } : undefined,
    );
  }

  async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? "/", "https://localhost");
    const path = url.pathname.replace(/\/+$/, "");
    const method = req.method ?? "GET";
    try {
      const route = parseRoute(path);
      if (!route || route === "discovery" || route.def.resource !== "pods" || (route.sub !== "exec" && route.sub !== "attach") || !route.name) {
        throw new ApiError(404, "NotFound", "the server could not find the requested resource", {});
      }
      this.ctx.stats.count(method, path, "create", `pods/${route.sub}`);
      const user = this.user(req);
      await this.preFaults(method, path, "create");
      // A WebSocket exec starts as a GET: API servers before 1.35 authorize it as "get" on pods/exec, and
      // 1.35 also as "create" (kubernetes/kubernetes#134577). Both are asked for here.
      this.authorize(user, "get", route);
      this.authorize(user, "create", route);
      const q = url.searchParams;
      const pod = this.ctx.cluster.store.get("pods", route.namespace, route.name);
      if (!pod) throw notFound(route.def, route.name);
      const container = pickContainer(pod, q.get("container") || undefined);
      const command = q.getAll("command");
      if (route.sub === "exec" && command.length === 0) throw badRequest("you must specify at least 1 command");
      const phase = pod.status?.phase;
      if (phase === "Succeeded" || phase === "Failed") throw badRequest(`cannot exec into a container in a completed pod; current phase is ${phase}`);
      const st = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])].find((s: Obj) => s.name === container);
      const running = this.ctx.cluster.runtimeOf(pod);
      if (!running || !st?.state?.running) throw badRequest(`unable to upgrade connection: container not found ("${container}")`);
      const offered = (req.headers["sec-websocket-protocol"] ?? "").split(",").map((s) => s.trim());
      if (!pickProtocol(new Set(offered))) throw badRequest("unable to upgrade connection: no supported subprotocol offered (v5.channel.k8s.io, v4.channel.k8s.io)");
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        runSession(ws, {
          running,
          container,
          command,
          stdin: bool(q.get("stdin")),
          stdout: q.get("stdout") === null ? true : bool(q.get("stdout")),
          stderr: q.get("stderr") === null ? true : bool(q.get("stderr")),
          tty: bool(q.get("tty")),
          attach: route.sub === "attach",
        });
      });
    } catch (e) {
      rawError(socket, e);
    }
  }

  private async control(req: IncomingMessage, res: ServerResponse, path: string, method: string): Promise<void> {
    const { faults, stats } = this.ctx;
    if (path === "/_test/faults") {
      if (method === "GET") return sendJson(res, 200, { faults: faults.list() });
      if (method === "DELETE") {
        faults.clear();
        return sendJson(res, 200, { faults: [] });
      }
      if (method === "POST") {
        const body = await readJson(req);
        if (body.action === "dropWatches") return sendJson(res, 200, { dropped: faults.dropWatchesNow() });
        if (body.action === "compactHistory") {
          faults.compactHistory();
          return sendJson(res, 200, { compacted: true });
        }
        try {
          faults.add((body.faults ?? body) as never);
        } catch (e) {
          throw badRequest((e as Error).message);
        }
        return sendJson(res, 200, { faults: faults.list() });
      }
    }
    if (path === "/_test/policy") {
      // The authorization rules in force: PUT {"rules": [...]} to restrict, {} (no rules) to allow all.
      if (method === "GET") return sendJson(res, 200, this.ctx.policy);
      if (method === "PUT") {
        const body = await readJson(req);
        if (body.rules !== undefined && !Array.isArray(body.rules)) throw badRequest("rules must be a list");
        this.ctx.policy.rules = body.rules as Policy["rules"];
        return sendJson(res, 200, this.ctx.policy);
      }
    }
    if (path === "/_test/stats") {
      if (method === "GET") return sendJson(res, 200, stats.snapshot());
      if (method === "DELETE") {
        stats.reset();
        return sendJson(res, 200, stats.snapshot());
      }
    }
    void now;
    throw new ApiError(404, "NotFound", "the server could not find the requested resource", {});
  }
}
