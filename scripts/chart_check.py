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
  - probes hit loadgate's real routes (/health/live, /health/ready) on the container port, and
    the distributor sidecar's its own (/health on 10999);
  - the workload source: a mounted tests ConfigMap when tests are given, else Keptn's resource
    service (LOADGATE_RESOURCE_SERVICE_URL or KEPTN_API_ENDPOINT);
  - scale-out: replicas or a HorizontalPodAutoscaler (never both), `scaleOut.separate` as a
    topology spread or a hard pod anti-affinity that selects the release's own pods, the load
    pool's nodeSelector and toleration, a PodDisruptionBudget that lets a drain proceed;
  - NATS auth and TLS: credentials by secretKeyRef or mounted files, never in plain text;
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
    yield from tutorial_cases(os.path.join(ROOT, "tutorials", "03-kubernetes.md"))


def helm_scalar(text):
    """A --set value as Helm's strvals types it: booleans, integers, null, else a string."""
    if text in ("true", "false"):
        return text == "true"
    if text == "null":
        return None
    if re.fullmatch(r"-?[0-9]+", text) and (text == "0" or not text.startswith("0")):
        return int(text)
    return text


def set_key(values, dotted, value):
    """Sets a --set style key (dots separate, `\\.` is a literal dot)."""
    keys = [k.replace("\x00", ".") for k in dotted.replace("\\.", "\x00").split(".")]
    node = values
    for k in keys[:-1]:
        node = node.setdefault(k, {})
    node[keys[-1]] = value


def merge(base, over):
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            merge(base[k], v)
        else:
            base[k] = copy.deepcopy(v)
    return base


TUTORIAL_ENV = {"REGISTRY": "registry.example.com/platform"}
# Secrets the tutorial creates (`kubectl ... create secret generic NAME`): its releases may
# reference only those.
TUTORIAL_SECRETS = set()


def tutorial_cases(path):
    """Every `helm install`/`helm upgrade` of a tutorial, as the values it gives the chart.
    `--reuse-values` starts from the values of the last command outside an "Or:" section
    (those are alternatives: checked, but they do not change what later sections build on)."""
    import shlex
    with open(path, encoding="utf-8") as f:
        text = f.read()
    TUTORIAL_SECRETS.update(re.findall(r"create secret generic ([-a-z0-9]+)", text))
    namespaces = set(re.findall(r"kubectl create namespace ([-a-z0-9]+)", text))
    base = {}
    section = ""
    out = []
    for block in re.finditer(r"^## ([^\n]*)$|^```sh[^\n]*\n(.*?)^```", text, re.S | re.M):
        if block.group(1) is not None:
            section = block.group(1)
            continue
        body = block.group(2).replace("\\\n", " ")
        for line in body.splitlines():
            line = line.split(" #", 1)[0].strip()
            if not line.startswith("helm install") and not line.startswith("helm upgrade"):
                continue
            for name, value in TUTORIAL_ENV.items():
                line = line.replace(f"${name}", value)
            args = shlex.split(line)[2:]
            values = {}
            i = 0
            while i < len(args):
                a = args[i]
                if a == "--reuse-values":
                    values = merge(copy.deepcopy(base), values)
                elif a in ("--set", "--set-file", "-f", "--values", "--namespace", "-n"):
                    arg = args[i + 1]
                    i += 1
                    if a in ("--namespace", "-n") and arg not in namespaces:
                        problem(f"tutorial-3 {section}", f"namespace {arg} is never created (kubectl create namespace)")
                    if a == "--set":
                        for pair in re.split(r"(?<!\\),", arg):
                            k, v = pair.split("=", 1)
                            set_key(values, k, helm_scalar(v))
                    elif a == "--set-file":
                        k, file = arg.split("=", 1)
                        with open(os.path.join(ROOT, file), encoding="utf-8") as f:
                            set_key(values, k, f.read())
                    elif a in ("-f", "--values"):
                        merge(values, load_values(os.path.join(ROOT, arg)))
                elif a.startswith("-"):
                    raise SystemExit(f"{path}: helm flag {a} is not understood by chart_check.py")
                i += 1
            case = f"tutorial-3 {section.split('.')[0]}.{len(out) + 1}"
            if not values.get("image", {}).get("repository"):
                problem(case, "the tutorial installs without image.repository (the default image is not published)")
            out.append((case, values))
            if "Or:" not in section:
                base = values
    return out


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
    spec = pod["spec"]
    hpas = by_kind(docs, "HorizontalPodAutoscaler")
    auto = values["autoscaling"]
    if auto["enabled"]:
        if "replicas" in dep["spec"]:
            problem(case, "autoscaling on, but the Deployment also sets replicas (they would fight)")
        if len(hpas) != 1:
            problem(case, f"autoscaling on, expected one HorizontalPodAutoscaler, got {len(hpas)}")
        for h in hpas:
            ref = h["spec"]["scaleTargetRef"]
            if (ref["kind"], ref["name"]) != ("Deployment", dep["metadata"]["name"]):
                problem(case, f"the HorizontalPodAutoscaler scales {ref}, not the Deployment")
            if (h["spec"]["minReplicas"], h["spec"]["maxReplicas"]) != (auto["minReplicas"], auto["maxReplicas"]):
                problem(case, "HorizontalPodAutoscaler bounds differ from autoscaling.*")
    else:
        if dep["spec"].get("replicas") != values["replicaCount"]:
            problem(case, "replicas differ from replicaCount")
        if hpas:
            problem(case, "a HorizontalPodAutoscaler without autoscaling.enabled")
    check_placement(case, spec, labels, values)

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
        mu = pdb["spec"].get("maxUnavailable")
        if "minAvailable" in pdb["spec"] or mu in (0, "0", "0%") or mu is None:
            problem(case, f"PodDisruptionBudget {pdb['spec']} can block node drains (want maxUnavailable >= 1)")
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
    dist = containers.get("distributor")
    if dist is not None:
        for kind in ("livenessProbe", "readinessProbe"):
            probe = dist.get(kind, {}).get("httpGet")
            if not probe or (probe.get("path"), probe.get("port")) != ("/health", 10999):
                problem(case, f"distributor {kind} is not GET /health on 10999: {probe}")

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
    from_cm = bool(tests["existingConfigMap"] or tests["files"])
    if from_cm != ("tests" in volumes):
        problem(case, "the tests volume does not follow tests.files / tests.existingConfigMap")
    if from_cm:
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
    check_workload_source(case, env, from_cm, values)
    check_nats_auth(case, env, lg, volumes, values)
    allowed_secrets = {
        values["keptn"]["apiToken"]["existingSecret"],
        values["remoteWrite"]["credentials"]["existingSecret"],
        values["nats"]["auth"]["existingSecret"],
        values["nats"]["tls"]["existingSecret"],
    } - {""}
    for v in volumes.values():
        name = v.get("secret", {}).get("secretName")
        if name is not None and name not in allowed_secrets:
            problem(case, f"volume {v['name']} mounts Secret {name} that no value names")
    if case.startswith("tutorial-3"):
        used = {e["valueFrom"]["secretKeyRef"]["name"] for c in spec["containers"] for e in c.get("env", [])
                if "secretKeyRef" in e.get("valueFrom", {})}
        used |= {v["secret"]["secretName"] for v in volumes.values() if "secret" in v}
        for name in sorted(used - TUTORIAL_SECRETS):
            problem(case, f"uses Secret {name}, which the tutorial never creates")
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


def check_workload_source(case, env, from_cm, values):
    """Exactly one workload source reaches loadgate: the tests folder, else the resource service
    (its own URL, else the Keptn API's /resource-service, which loadgate derives)."""
    keptn = values["keptn"]
    rs = env.get("LOADGATE_RESOURCE_SERVICE_URL", {}).get("value")
    api = env.get("KEPTN_API_ENDPOINT", {}).get("value")
    if from_cm:
        if env.get("LOADGATE_TESTS_DIR", {}).get("value") != "/etc/loadgate/tests":
            problem(case, "tests given but LOADGATE_TESTS_DIR is not the mounted folder")
        if rs:
            problem(case, "tests given and LOADGATE_RESOURCE_SERVICE_URL set: which one?")
        return
    if "LOADGATE_TESTS_DIR" in env:
        problem(case, "LOADGATE_TESTS_DIR set without tests")
    if keptn["resourceServiceUrl"]:
        if rs != keptn["resourceServiceUrl"]:
            problem(case, "keptn.resourceServiceUrl does not reach LOADGATE_RESOURCE_SERVICE_URL")
    elif rs:
        problem(case, "LOADGATE_RESOURCE_SERVICE_URL set without keptn.resourceServiceUrl")
    elif api != keptn["apiEndpoint"] or not api:
        problem(case, "no workload source: neither tests, a resource service URL nor KEPTN_API_ENDPOINT")


def check_nats_auth(case, env, lg, volumes, values):
    """NATS credentials and TLS files: from the named Secrets, files under mounted volumes."""
    if values["mode"] != "nats":
        for name in ("NATS_CREDS", "NATS_USER", "NATS_PASSWORD", "NATS_TOKEN", "NATS_CA", "NATS_CERT", "NATS_KEY"):
            if name in env:
                problem(case, f"mode distributor sets {name} (loadgate does not use NATS then)")
        return
    auth, tls = values["nats"]["auth"], values["nats"]["tls"]
    mounts = {m["mountPath"]: m["name"] for m in lg.get("volumeMounts", [])}

    def file_in_secret(var, secret, key):
        path = env.get(var, {}).get("value")
        if not path:
            problem(case, f"{var} is not set")
            return
        folder, name = os.path.split(path)
        vol = volumes.get(mounts.get(folder, ""), {})
        items = {i["path"]: i["key"] for i in vol.get("secret", {}).get("items", [])}
        if vol.get("secret", {}).get("secretName") != secret or items.get(name) != key:
            problem(case, f"{var}={path} is not {secret}/{key} mounted")

    want = set()
    if auth["existingSecret"]:
        if auth["credsKey"]:
            want.add("NATS_CREDS")
            file_in_secret("NATS_CREDS", auth["existingSecret"], auth["credsKey"])
        for var, key in (("NATS_USER", auth["userKey"]), ("NATS_PASSWORD", auth["passwordKey"]), ("NATS_TOKEN", auth["tokenKey"])):
            if key:
                want.add(var)
                ref = env.get(var, {}).get("valueFrom", {}).get("secretKeyRef", {})
                if (ref.get("name"), ref.get("key")) != (auth["existingSecret"], key):
                    problem(case, f"{var} is not {auth['existingSecret']}/{key} by secretKeyRef")
    if tls["existingSecret"]:
        want.add("NATS_CA")
        file_in_secret("NATS_CA", tls["existingSecret"], tls["caKey"])
        if tls["certKey"]:
            want |= {"NATS_CERT", "NATS_KEY"}
            file_in_secret("NATS_CERT", tls["existingSecret"], tls["certKey"])
            file_in_secret("NATS_KEY", tls["existingSecret"], tls["keyKey"])
    got = {n for n in env if n.startswith("NATS_") and n != "NATS_URL"}
    if got != want:
        problem(case, f"NATS settings {sorted(got)}, want {sorted(want)}")


def check_placement(case, spec, labels, values):
    """scaleOut.separate, the load pool, and the plain nodeSelector/tolerations/affinity."""
    so, pool = values["scaleOut"], values["loadPool"]
    spreads = spec.get("topologySpreadConstraints", [])
    anti = spec.get("affinity", {}).get("podAntiAffinity", {}).get("requiredDuringSchedulingIgnoredDuringExecution", [])
    if so["separate"] == "preferred":
        if not any(c["topologyKey"] == so["topologyKey"] and selects(c["labelSelector"]["matchLabels"], labels)
                   and c["whenUnsatisfiable"] == "ScheduleAnyway" for c in spreads):
            problem(case, "separate=preferred without a topology spread over the release's pods")
    elif spreads:
        problem(case, "a topology spread without scaleOut.separate=preferred")
    if so["separate"] == "required":
        if not any(t["topologyKey"] == so["topologyKey"] and selects(t["labelSelector"]["matchLabels"], labels) for t in anti):
            problem(case, "separate=required without a required pod anti-affinity against the release's pods")
    elif anti and not values["affinity"].get("podAntiAffinity"):
        problem(case, "a required pod anti-affinity without scaleOut.separate=required")
    for k, v in values["affinity"].items():
        if k != "podAntiAffinity" and spec.get("affinity", {}).get(k) != v:
            problem(case, f"affinity.{k} is not rendered as given")
    selector = spec.get("nodeSelector", {})
    tolerations = spec.get("tolerations", [])
    for k, v in values["nodeSelector"].items():
        if selector.get(k) != v:
            problem(case, f"nodeSelector {k}={v} is lost")
    for t in values["tolerations"]:
        if t not in tolerations:
            problem(case, f"toleration {t} is lost")
    if pool["enabled"]:
        if selector.get(pool["key"]) != pool["value"]:
            problem(case, "loadPool on, but the pods do not select its nodes")
        if not any(t.get("key") == pool["key"] and t.get("value") == pool["value"] and t.get("effect") == pool["effect"]
                   for t in tolerations):
            problem(case, "loadPool on, but the pods do not tolerate its taint")
    elif pool["key"] in selector and pool["key"] not in values["nodeSelector"]:
        problem(case, "loadPool off, but its node selector is rendered")


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

    def report(case, before):
        print(f"  {'ok' if len(problems) == before else 'FAILED'} {case}")

    for case, values in cases():
        before = len(problems)
        check_case(case, copy.deepcopy(values))
        report(case, before)
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
        ("no-workload-source", {"keptn": {"apiEndpoint": "", "resourceServiceUrl": ""}}, "no workload source"),
        ("nats-auth-no-secret", {"nats": {"auth": {"tokenKey": "token"}}}, "nats.auth.existingSecret"),
        ("nats-auth-two-ways", {"nats": {"auth": {"existingSecret": "s", "tokenKey": "t", "credsKey": "c"}}}, "one of credsKey"),
        ("nats-user-no-password", {"nats": {"auth": {"existingSecret": "s", "userKey": "u"}}}, "go together"),
        ("nats-cert-no-key", {"nats": {"tls": {"existingSecret": "s", "certKey": "tls.crt"}}}, "go together"),
        ("nats-bad-scheme", {"nats": {"url": "http://keptn-nats:4222"}}, "nats"),
        ("hpa-max-below-min", {"autoscaling": {"enabled": True, "minReplicas": 4, "maxReplicas": 2,
                                               "targetCPUUtilizationPercentage": 70}}, "maxReplicas"),
        ("bad-separate", {"scaleOut": {"separate": "yes", "topologyKey": "kubernetes.io/hostname"}}, "separate"),
        ("separate-and-own-anti-affinity", {"scaleOut": {"separate": "required", "topologyKey": "kubernetes.io/hostname"},
                                            "affinity": {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": []}}},
         "podAntiAffinity"),
        ("pdb-blocks-drains", {"podDisruptionBudget": {"enabled": True, "maxUnavailable": 0}}, "maxUnavailable"),
        ("bad-pool-effect", {"loadPool": {"enabled": True, "key": "k", "value": "v", "effect": "Never"}}, "effect"),
        ("distributor-bad-probe", {"mode": "distributor", "distributor": {"livenessProbe": {"httpGet": {"path": "/healthz", "port": 10999}}}},
         "livenessProbe"),
    ]
    for case, values, release, namespace, service in check_skaffold():
        before = len(problems)
        check_case(case, values)
        with helm.Chart.load(CHART) as chart:
            rendered = chart.render(values, name=release, namespace=namespace)
        if f"name: {service}\n" not in rendered.get("loadgate/templates/service.yaml", ""):
            problem(case, f"port-forward target Service {service} is not rendered")
        report(case, before)
        count += 1
    for case, values, needle in refusals:
        before = len(problems)
        expect_refused(case, values, needle)
        report(f"refused: {case}", before)
        count += 1
    if problems:
        print("\n".join(problems))
        print(f"chart check: {len(problems)} problem(s)")
        return 1
    print(f"chart check: {count} passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
