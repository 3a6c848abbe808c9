// deploy/k8s, checked without a cluster: every manifest validates against the Kubernetes (and
// KEDA) schemas of kubernetes-models, kustomization.yaml lists exactly the files there, the
// probes reach the worker's real health server on the port the worker is configured with, the
// grace period outlasts the graceful shutdown, and the KEDA scaler's query runs as the read-only
// role it is given.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import { ScaledObject, TriggerAuthentication } from "@kubernetes-models/keda/keda.sh/v1alpha1";
import { Deployment } from "kubernetes-models/apps/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { ConfigMap, Namespace, Secret } from "kubernetes-models/v1";
import pg from "pg";
import { parseAllDocuments } from "yaml";
import { root } from "../scripts/lib/database.ts";
import { loadConfig } from "../worker/src/config.ts";
import { startHealthServer } from "../worker/src/health.ts";

const dir = join(root, "deploy/k8s");

/** The models of the kinds deploy/k8s may hold: each validates against its JSON Schema. */
const models: Record<string, new (data: never) => { validate(): void }> = {
  "v1/Namespace": Namespace,
  "v1/ConfigMap": ConfigMap,
  "v1/Secret": Secret,
  "apps/v1/Deployment": Deployment,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
  "keda.sh/v1alpha1/ScaledObject": ScaledObject,
  "keda.sh/v1alpha1/TriggerAuthentication": TriggerAuthentication,
};

// deno-lint-ignore no-explicit-any
type Manifest = { apiVersion: string; kind: string; metadata: { name: string }; [field: string]: any };

function documents(file: string): Manifest[] {
  return parseAllDocuments(readFileSync(join(dir, file), "utf8")).map((document) => {
    assert.deepEqual(document.errors, [], `${file} is valid YAML`);
    return document.toJS() as Manifest;
  });
}

const files = readdirSync(dir).filter((file) => file.endsWith(".yaml")).sort();
const kustomization = documents("kustomization.yaml")[0];
const manifests = files.filter((file) => file !== "kustomization.yaml").flatMap(documents);
const only = (kind: string) => {
  const found = manifests.filter((manifest) => manifest.kind === kind);
  assert.equal(found.length, 1, `one ${kind}`);
  return found[0];
};

test("every manifest validates against its Kubernetes or KEDA schema", () => {
  assert.ok(manifests.length >= 7);
  for (const manifest of manifests) {
    const Model = models[`${manifest.apiVersion}/${manifest.kind}`];
    assert.ok(Model, `${manifest.apiVersion} ${manifest.kind} is a kind this test knows`);
    assert.doesNotThrow(() => new Model(manifest as never).validate(), `${manifest.kind} ${manifest.metadata.name}`);
  }
});

test("the validator does catch a broken manifest", () => {
  const deployment = structuredClone(only("Deployment"));
  deployment.spec.replicas = "two";
  assert.throws(() => new Deployment(deployment as never).validate(), /replicas/);
  const scaledObject = structuredClone(only("ScaledObject"));
  delete scaledObject.spec.scaleTargetRef;
  assert.throws(() => new ScaledObject(scaledObject as never).validate(), /scaleTargetRef/);
});

test("kustomization.yaml lists exactly the manifests in deploy/k8s", () => {
  assert.equal(kustomization.kind, "Kustomization");
  assert.deepEqual([...kustomization.resources].sort(), files.filter((file) => file !== "kustomization.yaml"));
  const images = kustomization.images.map((image: { name: string }) => image.name);
  assert.deepEqual(images, [only("Deployment").spec.template.spec.containers[0].image]);
});

test("the worker runs non-root on a read-only root filesystem, and every reference resolves", () => {
  const deployment = only("Deployment");
  const pod = deployment.spec.template.spec;
  const [container] = pod.containers;
  assert.equal(pod.securityContext.runAsNonRoot, true);
  assert.equal(container.securityContext.readOnlyRootFilesystem, true);
  assert.equal(container.securityContext.allowPrivilegeEscalation, false);
  assert.deepEqual(container.securityContext.capabilities.drop, ["ALL"]);
  assert.ok(container.resources.requests.memory && container.resources.limits.memory);
  const labels = deployment.spec.template.metadata.labels;
  for (const selector of [deployment.spec.selector, only("PodDisruptionBudget").spec.selector]) {
    for (const [key, value] of Object.entries(selector.matchLabels)) assert.equal(labels[key], value);
  }
  assert.equal(only("ScaledObject").spec.scaleTargetRef.name, deployment.metadata.name);
  const envFrom = container.envFrom.map((source: { configMapRef?: { name: string }; secretRef?: { name: string } }) =>
    source.configMapRef ? `ConfigMap/${source.configMapRef.name}` : `Secret/${source.secretRef!.name}`
  );
  assert.deepEqual(envFrom, [`ConfigMap/${only("ConfigMap").metadata.name}`, `Secret/${only("Secret").metadata.name}`]);
  const [secretRef] = only("TriggerAuthentication").spec.secretTargetRef;
  assert.equal(secretRef.name, only("Secret").metadata.name);
  assert.ok(secretRef.key in only("Secret").stringData, `the Secret has ${secretRef.key}`);
});

test("the probes reach the worker's health server on the port the worker is configured with", async () => {
  const settings = { ...only("ConfigMap").data, ...only("Secret").stringData } as NodeJS.ProcessEnv;
  const config = loadConfig(settings);
  const [container] = only("Deployment").spec.template.spec.containers;
  const port = container.ports.find((candidate: { name: string }) => candidate.name === "health");
  assert.equal(port.containerPort, config.healthPort);

  const server = await startHealthServer(0, { ready: () => Promise.resolve(true) });
  try {
    const { port: listening } = server.address() as AddressInfo;
    for (const probe of ["startupProbe", "livenessProbe", "readinessProbe"]) {
      assert.equal(container[probe].httpGet.port, "health", `${probe} uses the named port`);
      const response = await fetch(`http://127.0.0.1:${listening}${container[probe].httpGet.path}`);
      await response.body?.cancel();
      assert.equal(response.status, 200, `${probe} ${container[probe].httpGet.path}`);
    }
    const readiness = container.readinessProbe.httpGet.path;
    assert.equal(readiness, "/readyz", "readiness follows the database, liveness does not");
  } finally {
    server.close();
  }
  const graceMs = only("Deployment").spec.template.spec.terminationGracePeriodSeconds * 1000;
  assert.ok(
    graceMs > config.shutdownTimeoutMs,
    `grace ${graceMs} ms outlasts the ${config.shutdownTimeoutMs} ms drain`,
  );
});

test("the KEDA scaler's query counts ready jobs as area_scaler, on pg-boss's index", async () => {
  const [trigger] = only("ScaledObject").spec.triggers;
  assert.equal(trigger.type, "postgresql");
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  try {
    await client.query("begin");
    await client.query("set local role area_scaler");
    const { rows: [row], fields } = await client.query(trigger.metadata.query);
    assert.equal(fields.length, 1);
    assert.ok(Number.isInteger(Object.values(row)[0]), "an integer, as KEDA requires");
    await client.query("set local enable_seqscan = off");
    const { rows: plan } = await client.query(`explain ${trigger.metadata.query}`);
    assert.match(plan.map((line) => line["QUERY PLAN"]).join("\n"), /Index (Only )?Scan/);
    await assert.rejects(client.query("select count(*) from public.hook_jobs"), /permission denied/);
    await client.query("rollback");
  } finally {
    await client.end();
  }
});
