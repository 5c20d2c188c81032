import { createReadStream, createWriteStream } from 'node:fs';
import { cp, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { MlflowException } from '../errors.js';
import type { FileInfo } from './entities.js';
import { fetch, type RequestInit } from 'undici';
import { callEndpoint, httpRequest, verifyResponse, type HostCreds } from './http.js';

/** `MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD` and its sizes (minimum 500 MiB, parts of 10 MiB by default). */
function multipartSettings(size: number, env: NodeJS.ProcessEnv = process.env): { chunkSize: number } | undefined {
  if (!['true', '1'].includes((env.MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD ?? '').toLowerCase())) return undefined;
  const minimum = Number(env.MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE || 500 * 1024 ** 2);
  const chunkSize = Number(env.MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE || 10 * 1024 ** 2);
  return size >= minimum && chunkSize > 0 ? { chunkSize } : undefined;
}

/**
 * MLflow's artifact repositories for the two stores: a local folder (`file:` artifact URIs of the file
 * store) and the tracking server's proxied artifact store (`mlflow-artifacts:` URIs, served under
 * `/api/2.0/mlflow-artifacts/artifacts`). Files are streamed both ways, never held in memory.
 */

export interface ArtifactRepository {
  /** Upload one file into `artifactPath` (a folder below the root; the file keeps its name). */
  logArtifact(localFile: string, artifactPath?: string): Promise<void>;
  /** Upload a folder's contents into `artifactPath`. */
  logArtifacts(localDir: string, artifactPath?: string): Promise<void>;
  /** The direct children of `artifactPath`, sorted by path. */
  listArtifacts(artifactPath?: string): Promise<FileInfo[]>;
  /** Download a file or folder to `dstPath` (created) and return the local path of `artifactPath`. */
  downloadArtifacts(artifactPath: string, dstPath: string): Promise<string>;
}

/** `verify_artifact_path`: relative, no `..`. */
export function verifyArtifactPath(artifactPath: string | undefined): void {
  if (artifactPath && (path.posix.isAbsolute(artifactPath) || path.posix.normalize(artifactPath).split('/').includes('..'))) {
    throw MlflowException.invalidParameterValue(`Invalid artifact path: '${artifactPath}'. Names may be treated as files in certain cases, and must not resolve to other names when treated as such.`);
  }
}

async function walkFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
}

const toPosix = (p: string) => p.split(path.sep).join('/');

/** A `file:` URI or plain path as a local path. */
export function localArtifactPath(uri: string): string {
  if (uri.startsWith('file://')) return fileURLToPath(uri);
  return path.resolve(uri.startsWith('file:') ? uri.slice('file:'.length) : uri);
}

export class LocalArtifactRepository implements ArtifactRepository {
  readonly root: string;
  constructor(artifactUri: string) {
    this.root = localArtifactPath(artifactUri);
  }

  private resolve(artifactPath = ''): string {
    verifyArtifactPath(artifactPath);
    return path.join(this.root, artifactPath);
  }

  async logArtifact(localFile: string, artifactPath?: string): Promise<void> {
    const dir = this.resolve(artifactPath);
    await mkdir(dir, { recursive: true });
    await cp(localFile, path.join(dir, path.basename(localFile)));
  }

  async logArtifacts(localDir: string, artifactPath?: string): Promise<void> {
    const dir = this.resolve(artifactPath);
    await mkdir(dir, { recursive: true });
    await cp(localDir, dir, { recursive: true });
  }

  async listArtifacts(artifactPath?: string): Promise<FileInfo[]> {
    const dir = this.resolve(artifactPath);
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    const infos: FileInfo[] = [];
    for (const e of entries) {
      const rel = artifactPath ? path.posix.join(artifactPath, e.name) : e.name;
      infos.push(e.isDirectory() ? { path: rel, isDir: true } : { path: rel, isDir: false, fileSize: (await stat(path.join(dir, e.name))).size });
    }
    return infos.sort((a, b) => (a.path < b.path ? -1 : 1));
  }

  async downloadArtifacts(artifactPath: string, dstPath: string): Promise<string> {
    const src = this.resolve(artifactPath);
    const dst = path.join(dstPath, artifactPath);
    await mkdir(path.dirname(dst), { recursive: true });
    await cp(src, dst, { recursive: true });
    return dst;
  }
}

const ARTIFACTS_SERVICE_ROOT = '/api/2.0/mlflow-artifacts/artifacts';

/**
 * `mlflow-artifacts:/<path>` (or `mlflow-artifacts://host:port/<path>`) as the server path below
 * `/api/2.0/mlflow-artifacts/artifacts` and the host to send it to (`MlflowArtifactsRepository.resolve_uri`).
 */
export function resolveMlflowArtifactsUri(artifactUri: string, trackingHost: string): { host: string; root: string } {
  const m = /^mlflow-artifacts:(?:\/\/([^/]*))?(\/.*)?$/.exec(artifactUri);
  if (!m) throw MlflowException.invalidParameterValue(`Not an mlflow-artifacts URI: '${artifactUri}'`);
  const [, netloc, rest] = m;
  const tracking = new URL(trackingHost);
  if (netloc && /^:\d+$/.test(netloc)) {
    throw MlflowException.invalidParameterValue(`The mlflow-artifacts uri was supplied with a port number: ${netloc.slice(1)}, but no host was defined.`);
  }
  const host = netloc ? `${tracking.protocol}//${netloc}` : trackingHost.replace(/\/+$/, '');
  return { host, root: (rest ?? '/').replace(/\/+/g, '/').replace(/^\/|\/$/g, '') };
}

/** The tracking server's proxied artifact store (`HttpArtifactRepository`). */
export class HttpArtifactRepository implements ArtifactRepository {
  private readonly creds: HostCreds;
  private readonly root: string;

  constructor(artifactUri: string, creds: HostCreds) {
    const { host, root } = resolveMlflowArtifactsUri(artifactUri, creds.host);
    this.creds = { ...creds, host };
    this.root = root;
  }

  private remote(artifactPath: string): string {
    return [this.root, artifactPath].filter(Boolean).join('/');
  }

  private endpoint(remotePath: string): string {
    return `${ARTIFACTS_SERVICE_ROOT}/${remotePath.split('/').map(encodeURIComponent).join('/')}`;
  }

  private async upload(localFile: string, remotePath: string): Promise<void> {
    const size = (await stat(localFile)).size;
    if (multipartSettings(size) && (await this.multipartUpload(localFile, remotePath, size))) return;
    const path_ = this.endpoint(remotePath);
    const response = await httpRequest(this.creds, {
      method: 'PUT',
      path: path_,
      // A fresh stream per attempt: a retried upload starts from the first byte.
      body: () => Readable.toWeb(createReadStream(localFile)) as unknown as ReadableStream<Uint8Array>,
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(size) },
      idempotent: true,
    });
    await verifyResponse(response, path_);
    await response.body?.cancel().catch(() => undefined);
  }

  /** POST to `/api/2.0/mlflow-artifacts/mpu/<action>/<folder>` (MLflow's multipart upload endpoints). */
  private async mpu<T>(action: 'create' | 'complete' | 'abort', remotePath: string, body: Record<string, unknown>): Promise<T> {
    const folder = path.posix.dirname(remotePath);
    const p = `/api/2.0/mlflow-artifacts/mpu/${action}${folder === '.' ? '' : `/${folder.split('/').map(encodeURIComponent).join('/')}`}`;
    return callEndpoint<T>(this.creds, { method: 'POST', path: p, json: { path: path.posix.basename(remotePath), ...body }, idempotent: action !== 'create' });
  }

  /**
   * MLflow's multipart upload (`MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD`): the server hands out one presigned
   * URL per part, each part is PUT there straight from the file, then the upload is completed (or aborted).
   * Returns false when the server's artifact store has no multipart support (501), so the caller falls back
   * to one streamed request, as MLflow's client does.
   */
  private async multipartUpload(localFile: string, remotePath: string, size: number): Promise<boolean> {
    const { chunkSize } = multipartSettings(size)!;
    const numParts = Math.max(1, Math.ceil(size / chunkSize));
    let created: { upload_id?: string; credentials?: { url: string; part_number: number | string; headers?: Record<string, string> }[] };
    try {
      created = await this.mpu('create', remotePath, { num_parts: numParts });
    } catch (err) {
      if (err instanceof MlflowException && (err.errorCode === 'NOT_IMPLEMENTED' || err.message.includes('Multipart upload is not supported'))) return false;
      throw err;
    }
    try {
      const parts = [];
      for (const [i, credential] of (created.credentials ?? []).entries()) {
        const start = i * chunkSize;
        const end = Math.min(size, start + chunkSize) - 1;
        const response = await fetch(credential.url, {
          method: 'PUT',
          headers: credential.headers ?? {},
          body: Readable.toWeb(createReadStream(localFile, { start, end })) as unknown as ReadableStream<Uint8Array>,
          duplex: 'half',
        } as RequestInit);
        if (!response.ok) throw new MlflowException(`Failed to upload part ${credential.part_number} of ${localFile}: HTTP ${response.status}`, 'INTERNAL_ERROR');
        await response.body?.cancel().catch(() => undefined);
        parts.push({ part_number: Number(credential.part_number), etag: response.headers.get('etag') ?? '', url: credential.url });
      }
      await this.mpu('complete', remotePath, { upload_id: created.upload_id, parts });
      return true;
    } catch (err) {
      await this.mpu('abort', remotePath, { upload_id: created.upload_id }).catch(() => undefined);
      throw err;
    }
  }

  async logArtifact(localFile: string, artifactPath?: string): Promise<void> {
    verifyArtifactPath(artifactPath);
    await this.upload(localFile, this.remote(path.posix.join(artifactPath ?? '', path.basename(localFile))));
  }

  async logArtifacts(localDir: string, artifactPath?: string): Promise<void> {
    verifyArtifactPath(artifactPath);
    const files = await walkFiles(localDir);
    // A few uploads at a time, as MLflow's thread pool does.
    const queue = [...files];
    const worker = async () => {
      for (let rel = queue.shift(); rel !== undefined; rel = queue.shift()) {
        await this.upload(path.join(localDir, rel), this.remote(path.posix.join(artifactPath ?? '', toPosix(rel))));
      }
    };
    await Promise.all(Array.from({ length: Math.min(4, queue.length) }, worker));
  }

  async listArtifacts(artifactPath?: string): Promise<FileInfo[]> {
    verifyArtifactPath(artifactPath);
    const response = await httpRequest(this.creds, { method: 'GET', path: ARTIFACTS_SERVICE_ROOT, query: { path: this.remote(artifactPath ?? '') }, idempotent: true });
    await verifyResponse(response, ARTIFACTS_SERVICE_ROOT);
    const body = (await response.json()) as { files?: { path: string; is_dir?: boolean; file_size?: string | number }[] };
    const infos: FileInfo[] = (body.files ?? []).map((f) => {
      if (path.posix.normalize(f.path).split('/').includes('..') || path.posix.isAbsolute(f.path)) {
        throw MlflowException.invalidParameterValue(`Invalid path from the artifact server: '${f.path}'`);
      }
      const rel = artifactPath ? path.posix.join(artifactPath, f.path) : f.path;
      return f.is_dir ? { path: rel, isDir: true } : { path: rel, isDir: false, fileSize: f.file_size === undefined ? undefined : Number(f.file_size) };
    });
    // Listing a file answers with the file itself: MLflow reports that as no children.
    if (infos.length === 1 && !infos[0].isDir && artifactPath && infos[0].path === path.posix.join(artifactPath, path.posix.basename(artifactPath))) {
      return [];
    }
    return infos.sort((a, b) => (a.path < b.path ? -1 : 1));
  }

  private async downloadFile(artifactPath: string, localPath: string): Promise<void> {
    const p = this.endpoint(this.remote(artifactPath));
    const response = await httpRequest(this.creds, { method: 'GET', path: p, idempotent: true });
    await verifyResponse(response, p);
    await mkdir(path.dirname(localPath), { recursive: true });
    const tmp = `${localPath}.part-${process.pid}`;
    try {
      await pipeline(Readable.fromWeb(response.body! as import('node:stream/web').ReadableStream), createWriteStream(tmp));
      await rename(tmp, localPath);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async downloadArtifacts(artifactPath: string, dstPath: string): Promise<string> {
    verifyArtifactPath(artifactPath);
    const local = path.join(dstPath, artifactPath);
    const children = artifactPath ? await this.listArtifacts(artifactPath) : await this.listArtifacts();
    if (children.length === 0 && artifactPath) {
      // a file (or an empty folder, which MLflow cannot tell apart either)
      const parent = path.posix.dirname(artifactPath);
      const siblings = await this.listArtifacts(parent === '.' ? undefined : parent);
      if (siblings.some((s) => s.path === artifactPath && !s.isDir)) {
        await this.downloadFile(artifactPath, local);
        return local;
      }
      if (!siblings.some((s) => s.path === artifactPath)) {
        throw new MlflowException(`No artifact '${artifactPath}' at '${this.root}'`, 'RESOURCE_DOES_NOT_EXIST');
      }
    }
    await mkdir(local, { recursive: true });
    for (const child of children) {
      if (child.isDir) await this.downloadArtifacts(child.path, dstPath);
      else await this.downloadFile(child.path, path.join(dstPath, child.path));
    }
    return local;
  }
}

/** The repository for a run's or a model's artifact URI. */
export function artifactRepository(artifactUri: string, creds: HostCreds | undefined): ArtifactRepository {
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]+):/.exec(artifactUri)?.[1]?.toLowerCase();
  if (scheme === undefined || scheme === 'file') return new LocalArtifactRepository(artifactUri);
  if (scheme === 'mlflow-artifacts') {
    if (!creds) throw MlflowException.invalidParameterValue(`The artifact URI '${artifactUri}' needs an http(s) tracking URI (set MLFLOW_TRACKING_URI)`);
    return new HttpArtifactRepository(artifactUri, creds);
  }
  if (scheme === 'http' || scheme === 'https') {
    const u = new URL(artifactUri);
    const i = u.pathname.indexOf(ARTIFACTS_SERVICE_ROOT);
    if (i >= 0) {
      const base = `${u.protocol}//${u.host}${u.pathname.slice(0, i)}`;
      return new HttpArtifactRepository(`mlflow-artifacts:${u.pathname.slice(i + ARTIFACTS_SERVICE_ROOT.length) || '/'}`, { ...(creds ?? {}), host: base });
    }
  }
  throw new MlflowException(`Artifact URI '${artifactUri}': only file:, mlflow-artifacts: and the server's http(s) artifact URIs are supported`, 'NOT_IMPLEMENTED');
}
