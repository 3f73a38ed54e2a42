#!/usr/bin/env python3
"""Render chart/ without a helm binary and validate what comes out.

Renderer: helm-python-sdk (`pip install helm-python-sdk`), a ctypes binding to Helm v4's own Go SDK
(libhelm_c), so templates, Sprig functions, `fail`, values merging, values.schema.json validation
and `helm lint --strict` are Helm's own code, not a re-implementation. No cluster is contacted.

For the default values and each file in chart/ci/*-values.yaml (the documented modes), plus a
`--set-file`-style tests folder taken from test-data/, it checks:
  - helm lint --strict: no message at all; values.schema.json accepts the values;
  - every rendered manifest parses as YAML and validates against the Kubernetes OpenAPI schema of
    KUBE_VERSION in strict mode (kubernetes-validate, offline; unknown fields are errors);
    the ServiceMonitor (a CRD, no schema there) gets structural checks instead;
  - names and references: the Service, PodDisruptionBudget and ServiceMonitor select the pod
    labels; Service targetPort and ServiceMonitor port name exist; the ServiceAccount, the tests
    ConfigMap and the mounted volumes resolve; every Secret reference is one the values named;
  - probes hit loadgate's real routes (/health/live, /health/ready) on the container port;
  - non-root, read-only root filesystem, no privilege escalation, termination grace > shutdown
    grace; the loadgate container gets only the flags and environment variables `loadgate serve`
    defines (issues 3 and 4), and the mode's own settings (NATS_URL, or the distributor sidecar);
and that bad values are refused: schema violations and the render-time checks in _helpers.tpl.

Exit status 0 when all pass; otherwise every problem is printed and the status is 1. A missing
tool is status 2 with the install command.
"""

import copy
import glob
import os
import subprocess
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHART = os.path.join(ROOT, "chart")
KUBE_VERSION = "1.30.0"
RELEASE, NAMESPACE = "lg", "keptn"

try:
    import helm_python as helm
    import kubernetes_validate
    import yaml
except ImportError as e:  # fail loudly: this check never passes without its tools
    print(
        f"chart check needs {e.name}: pip install helm-python-sdk kubernetes-validate pyyaml "
        "(scripts/test.sh installs them)",
        file=sys.stderr,
    )
    sys.exit(2)

# What `loadgate serve` answers and accepts (issue 3 / issue 4; keep in sync with src/service).
ROUTES = {"/health/live", "/health/ready", "/metrics", "/v1/tests"}
SERVE_FLAGS = {
    "--nats-url", "--http-addr", "--tests-dir", "--distributor-url", "--keptn-api-endpoint",
    "--keptn-api-token", "--max-concurrent-tests", "--max-test-duration", "--prometheus-rw-url",
    "--shutdown-grace",
}
SERVE_ENV = {
    "NATS_URL", "LOADGATE_TESTS_DIR", "KEPTN_API_ENDPOINT", "KEPTN_API_TOKEN", "PROMETHEUS_RW_URL",
    "LOADGATE_LOG",
}


def serve_interface():
    """The flags and environment variables `loadgate serve --help` names, when LOADGATE_BIN points
    at the binary (tests/packaging.rs sets it): the chart is then checked against the real CLI."""
    binary = os.environ.get("LOADGATE_BIN")
    if not binary:
        return None
    text = subprocess.run([binary, "serve", "--help"], capture_output=True, text=True, check=True).stdout
    flags = set(re.findall(r"(--[a-z][a-z0-9-]*)", text)) - {"--help"}
    env = set(re.findall(r"\[env: ([A-Z0-9_]+)", text)) | {"LOADGATE_LOG"}
    return flags, env


_real = serve_interface()
if _real is not None:
    missing = SERVE_FLAGS - _real[0]
    if missing:
        raise SystemExit(f"the chart relies on flags `loadgate serve` does not have: {sorted(missing)}")
    SERVE_FLAGS, SERVE_ENV = _real
SERVE_ENV_PREFIXES = ("K6_PROMETHEUS_RW_",)

problems = []


def problem(case, msg):
    problems.append(f"[{case}] {msg}")


def load_values(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f) or {}


def cases():
    yield "default", {}
    for path in sorted(glob.glob(os.path.join(CHART, "ci", "*-values.yaml"))):
        yield os.path.basename(path)[: -len("-values.yaml")], load_values(path)
    # What `--set-file tests.files.<name>=<file>` produces: the tutorial's workload folder.
    files = {}
    folder = os.path.join(ROOT, "test-data", "tutorials", "tests")
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), encoding="utf-8") as f:
            files[name] = f.read()
    yield "set-file", {"tests": {"files": files}}


def by_kind(docs, kind):
    return [d for d in docs if d.get("kind") == kind]


def selects(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def check_case(case, values):
    lint = helm.lint(CHART, values, strict=True, namespace=NAMESPACE, kube_version=f"v{KUBE_VERSION}")
    for m in lint.get("messages", []):
        problem(case, f"helm lint: {m.get('path')}: {m.get('error')}".strip())
    with helm.Chart.load(CHART) as chart:
        try:
            chart.validate_schema(values)
            rendered = chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)
        except helm.HelmError as e:
            problem(case, f"render failed: {e}")
            return
        merged = chart.merge_values(values)

    docs = []
    for path, text in rendered.items():
        if path.endswith("NOTES.txt"):
            if "port-forward" not in text:
                problem(case, "NOTES.txt does not say how to reach the service")
            continue
        try:
            for doc in yaml.safe_load_all(text):
                if doc:
                    doc["__path"] = path
                    docs.append(doc)
        except yaml.YAMLError as e:
            problem(case, f"{path} is not YAML: {e}")
    check_docs(case, docs, merged)


def kube_validate(case, doc):
    body = {k: v for k, v in doc.items() if k != "__path"}
    for key in ("apiVersion", "kind"):
        if not body.get(key):
            problem(case, f"{doc['__path']}: no {key}")
            return
    if not body.get("metadata", {}).get("name"):
        problem(case, f"{doc['__path']}: no metadata.name")
    if body["kind"] == "ServiceMonitor":
        return  # a CRD: checked structurally in check_docs
    try:
        kubernetes_validate.validate(body, KUBE_VERSION, strict=True)
    except kubernetes_validate.ValidationError as e:
        problem(case, f"{doc['__path']}: {body['kind']} invalid for Kubernetes {KUBE_VERSION}: {e.message} at {list(e.path)}")
    except (kubernetes_validate.SchemaNotFoundError, kubernetes_validate.InvalidSchemaError) as e:
        problem(case, f"{doc['__path']}: no schema: {e}")


def check_docs(case, docs, values):
    for doc in docs:
        kube_validate(case, doc)
    names = {(d["kind"], d["metadata"]["name"]) for d in docs}
    deployments = by_kind(docs, "Deployment")
    if len(deployments) != 1:
        problem(case, f"expected one Deployment, got {len(deployments)}")
        return
    dep = deployments[0]
    pod = dep["spec"]["template"]
    labels = pod["metadata"].get("labels", {})
    if not selects(dep["spec"]["selector"]["matchLabels"], labels):
        problem(case, "Deployment selector does not match its pod labels")
    if dep["spec"].get("replicas") != values["replicaCount"]:
        problem(case, "replicas differ from replicaCount")
    spec = pod["spec"]

    # Services, PDB, ServiceMonitor select the pods, and ports resolve.
    services = by_kind(docs, "Service")
    if len(services) != 1:
        problem(case, f"expected one Service, got {len(services)}")
    containers = {c["name"]: c for c in spec["containers"]}
    lg = containers.get("loadgate")
    if lg is None:
        problem(case, "no container named loadgate")
        return
    port_names = {p["name"]: p["containerPort"] for p in lg.get("ports", [])}
    for svc in services:
        if not selects(svc["spec"].get("selector"), labels):
            problem(case, f"Service {svc['metadata']['name']} does not select the pods")
        for p in svc["spec"]["ports"]:
            tp = p.get("targetPort")
            if tp not in port_names and tp not in port_names.values():
                problem(case, f"Service targetPort {tp} is no container port")
    for pdb in by_kind(docs, "PodDisruptionBudget"):
        if not selects(pdb["spec"]["selector"]["matchLabels"], labels):
            problem(case, "PodDisruptionBudget does not select the pods")
    if values["podDisruptionBudget"]["enabled"] != bool(by_kind(docs, "PodDisruptionBudget")):
        problem(case, "PodDisruptionBudget presence does not follow podDisruptionBudget.enabled")
    monitors = by_kind(docs, "ServiceMonitor")
    if values["serviceMonitor"]["enabled"] != bool(monitors):
        problem(case, "ServiceMonitor presence does not follow serviceMonitor.enabled")
    for sm in monitors:
        if sm.get("apiVersion") != "monitoring.coreos.com/v1":
            problem(case, "ServiceMonitor apiVersion is not monitoring.coreos.com/v1")
        if not any(selects(sm["spec"]["selector"]["matchLabels"], s["metadata"]["labels"]) for s in services):
            problem(case, "ServiceMonitor selects no Service")
        svc_ports = {p["name"] for s in services for p in s["spec"]["ports"]}
        for ep in sm["spec"]["endpoints"]:
            if ep.get("port") not in svc_ports:
                problem(case, f"ServiceMonitor port {ep.get('port')} is no Service port")
            if ep.get("path") not in ROUTES:
                problem(case, f"ServiceMonitor path {ep.get('path')} is no loadgate route")

    # Probes point at real routes on the container port.
    for kind in ("livenessProbe", "readinessProbe"):
        probe = lg.get(kind, {}).get("httpGet")
        if not probe:
            problem(case, f"loadgate has no HTTP {kind}")
            continue
        if probe["path"] not in {"/health/live", "/health/ready"}:
            problem(case, f"{kind} path {probe['path']} is not a loadgate health route")
        if probe["port"] not in port_names and probe["port"] not in port_names.values():
            problem(case, f"{kind} port {probe['port']} is no container port")
    if lg["readinessProbe"]["httpGet"]["path"] != "/health/ready":
        problem(case, "readiness must use /health/ready (NATS connected)")

    # Security: non-root, read-only root, graceful termination.
    psc, csc = spec.get("securityContext", {}), lg.get("securityContext", {})
    if not (psc.get("runAsNonRoot") and csc.get("runAsNonRoot")):
        problem(case, "runAsNonRoot is not set")
    for c in spec["containers"]:
        sc = c.get("securityContext", {})
        if sc.get("readOnlyRootFilesystem") is not True or sc.get("allowPrivilegeEscalation") is not False:
            problem(case, f"container {c['name']} is not read-only / no-escalation")
    if spec["terminationGracePeriodSeconds"] <= values["service"]["shutdownGracePeriodSeconds"]:
        problem(case, "terminationGracePeriodSeconds is not longer than the shutdown grace period")

    # ServiceAccount, ConfigMap and volumes resolve.
    sa = spec.get("serviceAccountName")
    if values["serviceAccount"]["create"] and ("ServiceAccount", sa) not in names:
        problem(case, f"serviceAccountName {sa} is not rendered")
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    for c in spec["containers"]:
        for m in c.get("volumeMounts", []):
            if m["name"] not in volumes:
                problem(case, f"volumeMount {m['name']} has no volume")
    tests = values["tests"]
    if tests["enabled"]:
        cm = volumes.get("tests", {}).get("configMap", {}).get("name")
        if tests["existingConfigMap"]:
            if cm != tests["existingConfigMap"]:
                problem(case, "tests volume does not use tests.existingConfigMap")
        else:
            rendered = [d for d in by_kind(docs, "ConfigMap") if d["metadata"]["name"] == cm]
            if not rendered:
                problem(case, f"tests ConfigMap {cm} is not rendered")
            elif rendered[0].get("data") != tests["files"]:
                problem(case, "tests ConfigMap data differs from tests.files")
            elif "loadgate.yaml" in tests["files"]:
                yaml.safe_load(tests["files"]["loadgate.yaml"])  # the workload file parses

    # loadgate serve: only its flags and variables; mode settings.
    args = lg.get("args", [])
    for a in args:
        flag = a.split("=", 1)[0]
        if flag.startswith("--") and flag not in SERVE_FLAGS and a not in values["service"]["extraArgs"]:
            problem(case, f"argument {a} is not a `loadgate serve` flag")
    if any("token" in a.lower() for a in args):
        problem(case, "a token is passed on the command line (use the Secret)")
    env = {e["name"]: e for e in lg.get("env", [])}
    extra_env = {e["name"] for e in values["service"]["extraEnv"]}
    for name in env:
        if name not in SERVE_ENV and not name.startswith(SERVE_ENV_PREFIXES) and name not in extra_env:
            problem(case, f"environment variable {name} is not one loadgate reads")
    allowed_secrets = {values["keptn"]["apiToken"]["existingSecret"], values["remoteWrite"]["credentials"]["existingSecret"]} - {""}
    for c in spec["containers"]:
        for e in c.get("env", []):
            ref = e.get("valueFrom", {}).get("secretKeyRef")
            if ref and ref["name"] not in allowed_secrets:
                problem(case, f"{c['name']} references Secret {ref['name']} that no value names")
            if ("TOKEN" in e["name"] or "PASSWORD" in e["name"]) and "value" in e:
                problem(case, f"{e['name']} is set in plain text")
    mode = values["mode"]
    if mode == "nats":
        if env.get("NATS_URL", {}).get("value") != values["nats"]["url"]:
            problem(case, "mode nats without NATS_URL")
        if "distributor" in containers:
            problem(case, "mode nats renders a distributor")
    else:
        dist = containers.get("distributor")
        if dist is None:
            problem(case, "mode distributor without the sidecar")
        else:
            denv = {e["name"]: e for e in dist.get("env", [])}
            if denv.get("PUBSUB_RECIPIENT_PORT", {}).get("value") != str(port_names.get("http")):
                problem(case, "distributor does not deliver to loadgate's port")
            remote = values["distributor"]["keptnApiEndpoint"]
            if remote and "KEPTN_API_TOKEN" not in denv:
                problem(case, "remote execution plane without KEPTN_API_TOKEN on the distributor")
            if not remote and "PUBSUB_URL" not in denv:
                problem(case, "distributor without PUBSUB_URL")
        if "--distributor-url=http://localhost:8081/event" not in args:
            problem(case, "mode distributor without --distributor-url")
        if "NATS_URL" in env:
            problem(case, "mode distributor also sets NATS_URL (events would arrive twice)")
    rw = values["remoteWrite"]
    if rw["enabled"] != ("PROMETHEUS_RW_URL" in env):
        problem(case, "PROMETHEUS_RW_URL does not follow remoteWrite.enabled")


def expect_refused(case, values, needle):
    with helm.Chart.load(CHART) as chart:
        try:
            chart.validate_schema(values)
            chart.render(values, name=RELEASE, namespace=NAMESPACE)
        except helm.HelmError as e:
            if needle not in str(e):
                problem(case, f"refused, but not for {needle!r}: {e}")
            return
    problem(case, f"values were accepted: {values}")


def set_path(values, dotted, value):
    node = values
    keys = dotted.split(".")
    for k in keys[:-1]:
        node = node.setdefault(k, {})
    node[keys[-1]] = value


def check_skaffold():
    """skaffold.yaml: the image it builds is the chart's, the chart path and profiles resolve, and
    the port-forward reaches the rendered Service on 8080. Returns the profiles' values."""
    case = "skaffold"
    with open(os.path.join(ROOT, "skaffold.yaml"), encoding="utf-8") as f:
        sk = yaml.safe_load(f)
    image = sk["build"]["artifacts"][0]["image"]
    release = sk["deploy"]["helm"]["releases"][0]
    if os.path.normpath(os.path.join(ROOT, release["chartPath"])) != CHART:
        problem(case, "chartPath is not chart/")
    token = re.sub(r"[^A-Za-z0-9]", "_", image)
    templates = release.get("setValueTemplates", {})
    if templates.get("image.repository") != f"{{{{.IMAGE_REPO_{token}}}}}":
        problem(case, "image.repository is not the built image")
    if not os.path.exists(os.path.join(ROOT, sk["build"]["artifacts"][0]["docker"]["dockerfile"])):
        problem(case, "Dockerfile not found")
    pf = sk["portForward"][0]
    if (pf["port"], pf["localPort"]) != (8080, 8080) or pf["namespace"] != release["namespace"]:
        problem(case, "port-forward is not 8080 in the release's namespace")
    profiles = {p["name"]: p for p in sk.get("profiles", [])}
    if set(profiles) != {"nats", "distributor"}:
        problem(case, f"profiles are {sorted(profiles)}, want nats and distributor")
    out = []
    for name, prof in profiles.items():
        values = {"image": {"repository": image, "tag": "dev"}}
        for patch in prof["patches"]:
            if patch["path"] != "/deploy/helm/releases/0/setValues":
                problem(case, f"profile {name} patches {patch['path']}")
            for k, v in patch["value"].items():
                set_path(values, k, v)
        if values.get("mode") != name:
            problem(case, f"profile {name} sets mode {values.get('mode')}")
        out.append((f"skaffold-{name}", values, release["name"], release["namespace"], pf["resourceName"]))
    return out


def main():
    print(f"helm SDK {helm.helm_sdk_version()} (helm-python-sdk {helm.__version__}), "
          f"Kubernetes schemas {KUBE_VERSION} strict")
    count = 0
    for case, values in cases():
        check_case(case, copy.deepcopy(values))
        count += 1
    refusals = [
        ("bad-mode", {"mode": "jetstream"}, "mode"),
        ("bad-replicas", {"replicaCount": -1}, "replicaCount"),
        ("bad-probe", {"livenessProbe": {"httpGet": {"path": "/healthz", "port": "http"}}}, "livenessProbe"),
        ("root", {"securityContext": {"runAsNonRoot": False, "readOnlyRootFilesystem": True}}, "runAsNonRoot"),
        ("short-grace", {"terminationGracePeriodSeconds": 20}, "terminationGracePeriodSeconds"),
        ("rw-no-url", {"remoteWrite": {"enabled": True}}, "remoteWrite.url"),
        ("remote-no-token", {"mode": "distributor", "distributor": {"keptnApiEndpoint": "https://k/api"},
                             "keptn": {"apiToken": {"existingSecret": "", "key": "k"}}}, "apiToken"),
        ("unknown-key", {"replicas": 2}, "replicas"),
    ]
    for case, values, release, namespace, service in check_skaffold():
        check_case(case, values)
        with helm.Chart.load(CHART) as chart:
            rendered = chart.render(values, name=release, namespace=namespace)
        if f"name: {service}\n" not in rendered.get("loadgate/templates/service.yaml", ""):
            problem(case, f"port-forward target Service {service} is not rendered")
        count += 1
    for case, values, needle in refusals:
        expect_refused(case, values, needle)
        count += 1
    if problems:
        print("\n".join(problems))
        print(f"chart check: {len(problems)} problem(s)")
        return 1
    print(f"chart check: {count} passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
