package migrate

import (
	"fmt"
	"slices"
	"strings"

	"github.com/goccy/go-yaml/ast"

	"github.com/oidc-exchange/oidc-exchange/internal/lazyre"
)

// jobPlan is what scanJob learned about one job, and how to rewrite it.
type jobPlan struct {
	jobMV        *ast.MappingValueNode
	awsSecrets   []string
	gcpSecrets   []string
	azureSecrets []string
	// steps are the job's steps; keySteps the indexes of those that use
	// AWS keys (configure-aws-credentials at configIdx, env at envSteps).
	steps     []ast.Node
	keySteps  []int
	configIdx []int
	envSteps  []ast.Node
	jobEnv    bool
	wfKeys    bool
	unsafe    string
	// endpoint names the custom endpoint the keys are used with.
	endpoint string
	// action is the replacement action the job's runner can run.
	action string
	// edits are the job's text edits; permEdits, permAfter and permWarn
	// its permissions' (see [analysis.permissions]).
	edits     []srcEdit
	permDone  bool
	permErr   string
	permEdits []srcEdit
	permAfter string
	permWarn  []string
	// gcpSteps are the google-github-actions/auth steps with
	// credentials_json from secrets, at gcpIndex in steps; gcpUnsafe says
	// why they cannot be rewritten, gcpEdits are their in-line edits.
	gcpSteps  []ast.Node
	gcpIndex  []int
	gcpUnsafe string
	gcpEdits  []srcEdit
	// gcpInline and gcpExpect are the in-line edits of gcpEdits and the
	// scalars they must change, for [analysis.verifyGCP].
	gcpInline []srcEdit
	gcpExpect map[ast.Node]string
}

func (p *jobPlan) aws() bool { return len(p.awsSecrets) > 0 }

func (p *jobPlan) gcp() bool { return len(p.gcpSteps) > 0 }

func (a *analysis) add(rule, file, job string, n ast.Node, secrets []string, msg string) {
	l, c := line(n)
	a.findings = append(a.findings, Finding{Rule: rule, File: file, Line: l, Column: c, Job: job, Secrets: uniq(secrets), Message: msg})
}

func (a *analysis) scanJob(file, id string, jmv *ast.MappingValueNode, wfAWS []*ast.MappingValueNode) *jobPlan {
	p := &jobPlan{jobMV: jmv, action: runnerAction(jmv.Value)}
	job := jmv.Value
	p.endpoint = cmpOr(customEndpoint(job, false), customEndpoint(getValueMV(a.wfEnv), false))
	for _, e := range wfAWS {
		s := secretsIn(scalar(e.Value))
		p.awsSecrets = append(p.awsSecrets, s...)
		p.wfKeys = true
		a.add(RuleAWSStaticKeys, file, id, e.Key, s, fmt.Sprintf("job %s inherits workflow env %s from secrets; use OIDC with %s", id, keyOf(e), Action))
	}
	if jenv := get(job, "env"); jenv != nil {
		for _, e := range secretEnv(jenv) {
			s := secretsIn(scalar(e.Value))
			p.awsSecrets = append(p.awsSecrets, s...)
			p.jobEnv = true
			a.add(RuleAWSStaticKeys, file, id, e.Key, s, fmt.Sprintf("job %s sets %s from secrets; use OIDC with %s", id, keyOf(e), Action))
		}
	}
	type script struct {
		n ast.Node
		s string
	}
	var scripts []script
	stepsMV := get(job, "steps")
	if get(job, "uses") != nil {
		if p.aws() {
			p.unsafe = "job calls a reusable workflow; migrate the called workflow instead"
		}
		return p
	}
	if stepsMV != nil {
		if _, ok := unwrap(stepsMV.Value).(*ast.SequenceNode); !ok {
			p.unsafe = "steps is not a plain sequence"
		}
	}
	p.steps = seq(getValue(job, "steps"))
	for i, step := range p.steps {
		act := actionName(scalar(getValue(step, "uses")))
		with := get(step, "with")
		p.endpoint = cmpOr(p.endpoint, customEndpoint(step, false))
		if senv := get(step, "env"); senv != nil {
			for _, e := range secretEnv(senv) {
				s := secretsIn(scalar(e.Value))
				p.awsSecrets = append(p.awsSecrets, s...)
				if !slices.Contains(p.envSteps, step) {
					p.envSteps = append(p.envSteps, step)
					p.keySteps = append(p.keySteps, i)
				}
				p.endpoint = cmpOr(p.endpoint, customEndpoint(step, true))
				a.add(RuleAWSStaticKeys, file, id, e.Key, s, fmt.Sprintf("step sets %s from secrets; use OIDC with %s", keyOf(e), Action))
			}
		}
		if r := getValue(step, "run"); r != nil {
			scripts = append(scripts, script{r, scalar(r)})
		}
		if with != nil {
			if _, ok := unwrap(with.Value).(*ast.MappingNode); !ok && act == "aws-actions/configure-aws-credentials" {
				p.unsafe = "configure-aws-credentials with: is not a plain mapping"
			}
		}
		switch act {
		case "aws-actions/configure-aws-credentials":
			var s []string
			for _, k := range awsKeyInputs {
				s = append(s, secretsIn(scalar(getValue(getValueMV(with), k)))...)
			}
			if len(s) == 0 {
				continue
			}
			p.awsSecrets = append(p.awsSecrets, s...)
			p.configIdx = append(p.configIdx, i)
			if !slices.Contains(p.keySteps, i) {
				p.keySteps = append(p.keySteps, i)
			}
			a.add(RuleAWSStaticKeys, file, id, step, s, "configure-aws-credentials uses static access keys from secrets; assume a role with OIDC instead")
		case gcpAuthAction:
			if s := secretsIn(scalar(getValue(getValueMV(with), "credentials_json"))); len(s) > 0 {
				p.gcpSecrets = append(p.gcpSecrets, s...)
				p.gcpSteps = append(p.gcpSteps, step)
				p.gcpIndex = append(p.gcpIndex, i)
				a.add(RuleGCPCredentialsKey, file, id, step, s, "google-github-actions/auth uses a service-account key (credentials_json) from secrets; use workload identity federation with OIDC instead")
			}
		case "azure/login":
			if s := secretsIn(scalar(getValue(getValueMV(with), "creds"))); len(s) > 0 {
				p.azureSecrets = append(p.azureSecrets, s...)
				a.add(RuleAzureCreds, file, id, step, s, "azure/login uses a client secret (creds); use a federated credential (report-only)")
			}
		case "hashicorp/vault-action":
			w := getValueMV(with)
			s := secretsIn(scalar(getValue(w, "token")))
			if strings.EqualFold(scalar(getValue(w, "method")), "token") || len(s) > 0 {
				a.add(RuleVaultToken, file, id, step, s, "vault-action logs in with a long-lived token; use method: jwt with a Vault role bound to this workflow (report-only)")
			}
		default:
			if inputs, ok := deployActions[act]; ok {
				var s []string
				for _, e := range entries(getValueMV(with)) {
					for _, n := range secretsIn(scalar(e.Value)) {
						if slices.Contains(inputs, keyOf(e)) || tokenish(n) {
							s = append(s, n)
						}
					}
				}
				for _, e := range entries(getValue(step, "env")) {
					for _, n := range secretsIn(scalar(e.Value)) {
						if tokenish(n) || slices.Contains(inputs, keyOf(e)) {
							s = append(s, n)
						}
					}
				}
				if len(s) > 0 {
					a.add(RuleDeployToken, file, id, step, s, act+" is given a long-lived token; check whether it supports OIDC (report-only)")
				}
			}
		}
	}
	for _, sc := range scripts {
		var bad []string
		for _, n := range secretsIn(sc.s) {
			if slices.Contains(p.awsSecrets, n) || strings.HasPrefix(strings.ToUpper(n), "AWS_") {
				bad = append(bad, n)
			}
		}
		if len(bad) > 0 {
			p.awsSecrets = append(p.awsSecrets, bad...)
			p.unsafe = "secrets are interpolated into a run: script; rewrite it by hand"
			a.add(RuleSecretInScript, file, id, sc.n, bad, "AWS secrets are interpolated into a run: script; cannot be rewritten safely")
		}
		var key []string
		for _, n := range secretsIn(sc.s) {
			if slices.Contains(p.gcpSecrets, n) {
				key = append(key, n)
			}
		}
		if len(key) > 0 {
			p.gcpUnsafe = "the service-account key is interpolated into a run: script; rewrite it by hand"
			a.add(RuleSecretInScript, file, id, sc.n, key, "a service-account key from secrets is interpolated into a run: script; cannot be rewritten safely")
		}
	}
	if p.aws() && stepsMV == nil && p.unsafe == "" {
		p.unsafe = "job has no steps"
	}
	return p
}

func tokenish(name string) bool {
	u := strings.ToUpper(name)
	return strings.HasSuffix(u, "_TOKEN") || strings.HasSuffix(u, "_KEY")
}

func getValueMV(mv *ast.MappingValueNode) ast.Node {
	if mv == nil {
		return nil
	}
	return mv.Value
}

func cmpOr(vs ...string) string {
	for _, v := range vs {
		if v != "" && !strings.Contains(v, "${{") {
			return v
		}
	}
	return ""
}

// NativeAction is the replacement action for jobs that may run on macOS
// or Windows: the container action runs on Linux only (native/action.yml
// runs the same binary on all three).
const NativeAction = "oidc-exchange/oidc-exchange/native@v1"

// RegionPlaceholder is written as aws-region when neither the workflow nor
// --region names one: the step fails loudly until it is replaced, and the
// report says so.
const RegionPlaceholder = "REPLACE-WITH-AWS-REGION"

// awsKeptInputs are the configure-aws-credentials inputs oidc-exchange
// takes with the same name and meaning (action.yml); the rewrite drops any
// other input, with a warning, since ours would fail on it or ignore it.
var awsKeptInputs = []string{
	"aws-region", "role-to-assume", "role-session-name", "role-duration-seconds", "inline-session-policy",
	"managed-session-policies", "mask-aws-account-id", "output-credentials", "output-env-credentials",
	"unset-current-credentials", "allowed-account-ids", "audience", "retry-max-attempts", "disable-retry",
	"action-timeout-s", "http-proxy", "no-proxy",
}

// endpointEnv are environment variables that point AWS tools at another
// endpoint: keys used with them belong to S3-compatible storage (R2, MinIO,
// Spaces, …), which has no AWS role to assume.
var endpointEnv = []string{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_S3_ENDPOINT", "S3_ENDPOINT", "AWS_ENDPOINT"}

// endpointInputs are step inputs of the same meaning.
var endpointInputs = []string{"endpoint", "endpoint-url", "endpoint_url", "aws-endpoint", "aws_endpoint", "s3-endpoint", "s3_endpoint"}

// credentialFree are actions that never read cloud credentials: a new
// step for job- or workflow-level keys goes after them, so that they do
// not see the credentials and the session starts as late as it can.
var credentialFree = []string{"actions/checkout", "actions/setup-", "actions/cache"}

// customEndpoint names the first endpoint override n's env or with sets,
// or returns "".
func customEndpoint(n ast.Node, inputs bool) string {
	for _, e := range entries(getValue(n, "env")) {
		k := strings.ToUpper(keyOf(e))
		if strings.HasPrefix(k, "AWS_ENDPOINT_URL") || slices.Contains(endpointEnv, k) {
			return keyOf(e)
		}
	}
	if inputs {
		for _, e := range entries(getValue(n, "with")) {
			if slices.Contains(endpointInputs, strings.ToLower(keyOf(e))) {
				return keyOf(e)
			}
		}
	}
	return ""
}

// runnerAction returns the action the job's runner can run: the container
// action only when runs-on names no macOS or Windows runner, also through
// a matrix, and is not an expression we cannot follow.
func runnerAction(job ast.Node) string {
	ro := getValue(job, "runs-on")
	labels := seq(ro)
	if m, ok := unwrap(ro).(*ast.MappingNode); ok {
		labels = seq(getValue(m, "labels"))
	}
	matrix := getValue(getValue(job, "strategy"), "matrix")
	var all []string
	for _, l := range labels {
		v := scalar(l)
		if !strings.Contains(v, "${{") {
			all = append(all, v)
			continue
		}
		m := matrixRefRE().FindAllStringSubmatch(v, -1)
		if len(m) == 0 {
			return NativeAction
		}
		// The text around the expressions counts too: windows-${{
		// matrix.version }} is a Windows runner whatever the version.
		all = append(all, exprRE().ReplaceAllString(v, ""))
		for _, ref := range m {
			vals := matrixValues(matrix, ref[1])
			if len(vals) == 0 {
				return NativeAction
			}
			all = append(all, vals...)
		}
	}
	for _, v := range all {
		lv := strings.ToLower(v)
		if strings.Contains(lv, "macos") || strings.Contains(lv, "windows") || strings.Contains(lv, "${{") {
			return NativeAction
		}
	}
	return Action
}

// exprRE matches a ${{ }} expression.
var exprRE = lazyre.New(`\$\{\{.*?\}\}`)

// matrixRefRE matches matrix.NAME in an expression.
var matrixRefRE = lazyre.New(`matrix\.([A-Za-z_][A-Za-z0-9_-]*)`)

// matrixValues returns the values the matrix gives name, from its list and
// its include entries; nil when it cannot tell.
func matrixValues(matrix ast.Node, name string) []string {
	if matrix == nil || scalar(matrix) != "" {
		return nil
	}
	var out []string
	add := func(n ast.Node) {
		for _, x := range seq(n) {
			out = append(out, scalar(x))
			if scalar(x) == "" {
				out = append(out, "${{") // a nested value: unknown
			}
		}
	}
	add(getValue(matrix, name))
	for _, inc := range seq(getValue(matrix, "include")) {
		add(getValue(inc, name))
	}
	return out
}

// events returns the workflow's trigger names.
func events(on ast.Node) []string {
	var out []string
	if es := entries(on); len(es) > 0 {
		for _, e := range es {
			out = append(out, keyOf(e))
		}
		return out
	}
	for _, n := range seq(on) {
		out = append(out, scalar(n))
	}
	return out
}

// prCheckoutRE matches a ref that is the pull request's own code.
var prCheckoutRE = lazyre.New(`pull_request\.head|head_ref|workflow_run\.head|refs/pull/|gh pr checkout`)

// forkGuardRE matches a condition that keeps a job or step off fork pull
// requests (or off pull requests altogether).
var forkGuardRE = lazyre.New(`event_name|head\.repo|\.fork|pull_request`)

// warnings returns what the rewrite cannot fix but the user must know: the
// runs that get no OIDC token, and trusted credentials near untrusted code.
func (a *analysis) warnings(p *jobPlan, cond string) []string {
	var out []string
	ev := events(onNode(a.file.Docs[0].Body))
	job := p.jobMV.Value
	if slices.Contains(ev, "pull_request_target") || slices.Contains(ev, "workflow_run") {
		for _, step := range seq(getValue(job, "steps")) {
			ref := scalar(getValue(getValue(step, "with"), "ref"))
			act := actionName(scalar(getValue(step, "uses")))
			if act == "actions/checkout" && prCheckoutRE().MatchString(ref) || prCheckoutRE().MatchString(scalar(getValue(step, "run"))) {
				out = append(out, "the workflow runs on pull_request_target or workflow_run and this job checks out the pull request's code: that code would run with the role's credentials; keep the checkout and the credentials in separate jobs")
				break
			}
		}
	}
	if slices.Contains(ev, "pull_request") && !forkGuardRE().MatchString(scalar(getValue(job, "if"))+" "+cond) {
		out = append(out, "the workflow runs on pull_request: runs for pull requests from forks get no OIDC token, so the new step fails there; add if: github.event.pull_request.head.repo.full_name == github.repository to it, or keep the job off fork pull requests")
	}
	return out
}

// awsRegion returns the region the new or rewritten step names: the
// first key-using step's AWS_REGION or AWS_DEFAULT_REGION, the job's, the
// workflow's, the aws-region of the job's configure-aws-credentials step,
// then --region, then a placeholder with a warning.
func (a *analysis) awsRegion(p *jobPlan, first ast.Node, o Options) (string, string) {
	for _, n := range []ast.Node{getValue(first, "env"), getValue(p.jobMV.Value, "env"), getValueMV(a.wfEnv)} {
		for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
			if v := scalar(getValue(n, k)); v != "" && plainScalar(v) {
				return v, ""
			}
		}
	}
	// The job's configure-aws-credentials steps name the region its keys
	// were used in.
	for _, i := range p.configIdx {
		if v := scalar(getValue(getValue(p.steps[i], "with"), "aws-region")); v != "" && plainScalar(v) {
			return v, ""
		}
	}
	if o.Region != "" {
		return o.Region, ""
	}
	return RegionPlaceholder, "no AWS region found in the workflow and no --region given: aws-region is " + RegionPlaceholder + ", which fails until you replace it"
}

// checkAWS decides whether the job's AWS keys can be replaced: it returns
// why not, or "" and sets p.edits, j.Step, j.Permissions and j.Warnings.
//
// A configure-aws-credentials step becomes an oidc-exchange step in place
// (it keeps its if: and continue-on-error); keys in step, job or
// workflow env get a new step just before the first step that can use
// them, with that step's if: and continue-on-error.
func (a *analysis) checkAWS(p *jobPlan, o Options, j *Job) string {
	var first ast.Node
	if len(p.keySteps) > 0 {
		first = p.steps[p.keySteps[0]]
	}
	region, w := a.awsRegion(p, first, o)
	j.Step = awsStep(p.action, o.roleARN(), region)
	if a.permissions(p) == "" {
		j.Permissions = p.permAfter
	}
	switch {
	case p.unsafe != "":
		return p.unsafe
	case p.endpoint != "":
		return fmt.Sprintf("the keys are used with a custom endpoint (%s): S3-compatible storage, not AWS; left alone", p.endpoint)
	case !plainScalar(o.roleARN()):
		return fmt.Sprintf("role-to-assume %q cannot be written as a plain YAML value", o.roleARN())
	}
	steps := p.steps
	at := -1
	for i := range steps {
		if slices.Contains(p.keySteps, i) {
			at = i
			break
		}
		if (p.jobEnv || p.wfKeys) && !credentialFreeStep(steps[i]) {
			at = i
			break
		}
	}
	if at < 0 {
		return "no step can use the keys"
	}
	var edits []srcEdit
	var warns []string
	if first != steps[at] {
		region, w = a.awsRegion(p, steps[at], o)
	}
	regionUsed := false
	role := o.roleARN()
	cond := ""
	for _, i := range p.configIdx {
		es, ws, reason := a.configEdits(steps[i], p.action, role, region)
		if reason != "" {
			return reason
		}
		edits, warns = append(edits, es...), append(warns, ws...)
		if get(getValue(steps[i], "with"), "aws-region") == nil {
			regionUsed = true
		}
		if i == at {
			cond = scalar(getValue(steps[i], "if"))
		}
	}
	if !slices.Contains(p.configIdx, at) {
		es, c, reason := a.newStepEdits(p, at, role, region)
		if reason != "" {
			return reason
		}
		edits, cond, regionUsed = append(edits, es...), c, true
	}
	if regionUsed && w != "" {
		warns = append(warns, w)
	}
	for _, st := range p.envSteps {
		es, reason := a.removeKeys(st, get(st, "env"))
		if reason != "" {
			return reason
		}
		edits = append(edits, es...)
	}
	if p.jobEnv {
		es, reason := a.removeKeys(p.jobMV.Value, get(p.jobMV.Value, "env"))
		if reason != "" {
			return reason
		}
		edits = append(edits, es...)
	}
	if reason := a.permissions(p); reason != "" {
		return reason
	}
	p.edits = edits
	j.Step = awsStep(p.action, role, region)
	j.Permissions = p.permAfter
	j.Warnings = slices.Concat(warns, p.permWarn, a.warnings(p, cond))
	return ""
}

func credentialFreeStep(step ast.Node) bool {
	act := actionName(scalar(getValue(step, "uses")))
	if act == "" || len(entries(getValue(step, "env"))) > 0 {
		return false
	}
	for _, c := range credentialFree {
		if strings.HasPrefix(act, c) {
			return true
		}
	}
	return false
}

// configEdits turns a configure-aws-credentials step into an oidc-exchange
// step: uses, role-to-assume in place of the access key, aws-region when
// missing, the secret inputs and the inputs we do not take removed.
func (a *analysis) configEdits(step ast.Node, action, role, region string) ([]srcEdit, []string, string) {
	uses := get(step, "uses")
	ed, err := a.editAt(uses.Value, scalar(uses.Value), action)
	if err != nil {
		return nil, nil, fmt.Sprintf("uses: %v; rewrite it by hand", err)
	}
	edits := []srcEdit{ed}
	wm := blockMapping(getValue(step, "with"))
	if wm == nil {
		return a.flowWithEdits(step, edits, role, region)
	}
	_, col := line(wm.Values[0].Key)
	ind := spaces(col - 1)
	var add []string
	if get(wm, "role-to-assume") == nil {
		add = append(add, ind+"role-to-assume: "+role)
	}
	if get(wm, "aws-region") == nil {
		add = append(add, ind+"aws-region: "+region)
	}
	var warns []string
	for _, e := range wm.Values {
		k := keyOf(e)
		f, l := a.entryLines(e)
		switch {
		case k == "aws-access-key-id" && add != nil:
			// The role takes the access key's place.
			edits = append(edits, a.replaceLines(f, l, "role-to-assume replaces the access key", add...))
			add = nil
		case slices.Contains(awsKeyInputs, k):
			edits = append(edits, a.replaceLines(f, l, "static key input removed"))
		case !slices.Contains(awsKeptInputs, k):
			edits = append(edits, a.replaceLines(f, l, "unsupported input removed"))
			warns = append(warns, fmt.Sprintf("configure-aws-credentials input %s has no oidc-exchange equivalent and was removed", k))
		}
	}
	if add != nil {
		f, _ := a.entryLines(wm.Values[0])
		edits = append(edits, a.insertLines(f, "role and region added", add...))
	}
	return edits, warns, ""
}

// flowWithEdits rewrites a configure-aws-credentials step whose with: is
// a flow mapping ({aws-region: …, aws-access-key-id: …}): its lines
// become a block mapping of the inputs kept plus the role and the region.
func (a *analysis) flowWithEdits(step ast.Node, edits []srcEdit, role, region string) ([]srcEdit, []string, string) {
	with := get(step, "with")
	m, ok := unwrap(with.Value).(*ast.MappingNode)
	if !ok {
		return nil, nil, "configure-aws-credentials with: is not a mapping; rewrite it by hand"
	}
	_, kc := line(with.Key)
	f, l := a.entryLines(with)
	if vl, _ := line(m); vl != f {
		return nil, nil, "configure-aws-credentials with: does not start on its key's line; rewrite it by hand"
	}
	ind := spaces(kc - 1)
	ls := []string{ind + "with:", ind + "  role-to-assume: " + role}
	var warns []string
	hasRegion := false
	for _, e := range m.Values {
		k, v := keyOf(e), scalar(e.Value)
		switch {
		case slices.Contains(awsKeyInputs, k):
			continue
		case !slices.Contains(awsKeptInputs, k):
			warns = append(warns, fmt.Sprintf("configure-aws-credentials input %s has no oidc-exchange equivalent and was removed", k))
			continue
		case k == "role-to-assume":
			ls[1] = ind + "  role-to-assume: " + v
		case k == "aws-region":
			hasRegion = true
		}
		if !plainScalar(v) {
			return nil, nil, fmt.Sprintf("configure-aws-credentials input %s is not a plain value; rewrite with: by hand", k)
		}
		if k != "role-to-assume" {
			ls = append(ls, ind+"  "+k+": "+v)
		}
	}
	if !hasRegion {
		ls = append(ls, ind+"  aws-region: "+region)
	}
	if a.lineText(f)[:kc-1] != ind {
		// with: is the step's first key, on its dash line.
		ls[0] = a.lineText(f)[:kc-1] + "with:"
	}
	return append(edits, a.replaceLines(f, l, "flow with: written as a block", ls...)), warns, ""
}

// newStepEdits inserts an oidc-exchange step before steps[at] (and the
// comment lines right above it, which describe it), laid out like it and
// with its if: and continue-on-error, copied line for line. It returns
// the condition the step runs under.
func (a *analysis) newStepEdits(p *jobPlan, at int, role, region string) ([]srcEdit, string, string) {
	step := blockMapping(p.steps[at])
	if step == nil {
		return nil, "", "the step that uses the keys is not a block mapping; rewrite it by hand"
	}
	kl, kc := line(step.Values[0].Key)
	text := a.lineText(kl)
	if kc < 3 || len(text) < kc-1 || strings.TrimSpace(text[:kc-1]) != "-" {
		return nil, "", "cannot place the new step: the step's first key is not on its dash line; rewrite it by hand"
	}
	prefix, ind := text[:kc-1], spaces(kc-1)
	unit := spaces(max(kc-1-strings.Index(text, "-"), 2))
	ls := []string{prefix + "uses: " + p.action}
	cond := ""
	if !p.jobEnv && !p.wfKeys {
		ifs := map[string]bool{}
		for _, st := range p.envSteps {
			ifs[scalar(getValue(st, "if"))] = true
		}
		cond = scalar(getValue(step, "if"))
		if cond != "" && len(ifs) > 1 {
			return nil, "", "the steps that use the keys run under different if: conditions; add the oidc-exchange step by hand"
		}
		for _, k := range []string{"if", "continue-on-error"} {
			e := get(step, k)
			if e == nil {
				continue
			}
			f, l := a.entryLines(e)
			_, c := line(e.Key)
			ls = append(ls, ind+a.lineText(f)[c-1:])
			for x := f + 1; x <= l; x++ {
				ls = append(ls, a.lineText(x))
			}
		}
	}
	ls = append(ls, ind+"with:", ind+unit+"role-to-assume: "+role, ind+unit+"aws-region: "+region)
	before := kl
	for before > 1 && strings.HasPrefix(strings.TrimSpace(a.lineText(before-1)), "#") {
		before--
	}
	return []srcEdit{a.insertLines(before, "oidc-exchange step added", ls...)}, cond, ""
}

// removeKeys removes the AWS key entries from secrets from the env entry
// env of parent, and env itself when nothing else is left in it.
func (a *analysis) removeKeys(parent ast.Node, env *ast.MappingValueNode) ([]srcEdit, string) {
	keys := secretEnv(env)
	if len(keys) == 0 {
		return nil, ""
	}
	if len(keys) == len(entries(env.Value)) {
		f, l := a.entryLines(env)
		if _, ok := unwrap(parent).(*ast.MappingNode); !ok || len(entries(parent)) < 2 {
			return nil, "removing env: would leave an empty mapping; rewrite it by hand"
		}
		return []srcEdit{a.replaceLines(f, l, "env with keys only removed")}, ""
	}
	if blockMapping(env.Value) == nil {
		return nil, "env: is a flow mapping; remove the keys by hand"
	}
	var out []srcEdit
	for _, e := range keys {
		f, l := a.entryLines(e)
		out = append(out, a.replaceLines(f, l, "key from secrets removed"))
	}
	return out, ""
}

// permissions works out the job's permissions after the migration, into
// p.permEdits, p.permAfter and p.permWarn, or returns why it cannot. A
// job-level block replaces the workflow's entirely, so a job without one
// gets the workflow's entries plus id-token: write; a workflow without one
// leaves the job the repository's default token permissions, which no
// block can name: it gets contents: read, and a warning.
func (a *analysis) permissions(p *jobPlan) string {
	if p.permDone {
		return p.permErr
	}
	p.permDone = true
	p.permErr = a.permissionsOf(p)
	return p.permErr
}

func (a *analysis) permissionsOf(p *jobPlan) string {
	jm := blockMapping(p.jobMV.Value)
	if jm == nil {
		return "job is not a plain block mapping"
	}
	_, kc := line(jm.Values[0].Key)
	ind := spaces(kc - 1)
	unit := spaces(indentUnit(p.jobMV))
	var kv [][2]string
	set := func(n ast.Node) string {
		for _, e := range entries(n) {
			v := scalar(e.Value)
			if v == "" || keyOf(e) == "" {
				return "permissions has a value that is not a plain scalar; add id-token: write by hand"
			}
			kv = append(kv, [2]string{keyOf(e), v})
		}
		return ""
	}
	render := func() []string {
		ls := []string{ind + "permissions:"}
		seen := false
		for i, e := range kv {
			if e[0] == "id-token" {
				kv[i][1], seen = "write", true
			}
		}
		if !seen {
			kv = append(kv, [2]string{"id-token", "write"})
		}
		for _, e := range kv {
			ls = append(ls, ind+unit+e[0]+": "+e[1])
		}
		return ls
	}
	// The report shows the block with its own two-space indentation.
	after := func([]string) string {
		var b strings.Builder
		b.WriteString("permissions:\n")
		for _, e := range kv {
			b.WriteString("  " + e[0] + ": " + e[1] + "\n")
		}
		return b.String()
	}
	perm := get(jm, "permissions")
	if perm != nil {
		switch v := scalar(perm.Value); v {
		case "write-all":
			p.permAfter = "permissions: write-all\n"
			return ""
		case "":
		default:
			return "permissions: " + v + " has no id-token: write; set permissions by hand"
		}
		pm, ok := unwrap(perm.Value).(*ast.MappingNode)
		if !ok {
			return "permissions is not a mapping; add id-token: write by hand"
		}
		if why := set(pm); why != "" {
			return why
		}
		if !pm.IsFlowStyle && len(pm.Values) > 0 {
			ls := render()
			p.permAfter = after(ls)
			if e := get(pm, "id-token"); e != nil {
				if scalar(e.Value) == "write" {
					return ""
				}
				ed, err := a.editAt(e.Value, scalar(e.Value), "write")
				if err != nil {
					return "permissions: id-token: " + err.Error()
				}
				p.permEdits = []srcEdit{ed}
				return ""
			}
			_, c := line(pm.Values[0].Key)
			_, l := a.entryLines(perm)
			p.permEdits = []srcEdit{a.insertLines(l+1, "id-token: write added", spaces(c-1)+"id-token: write")}
			return ""
		}
		f, l := a.entryLines(perm)
		ls := render()
		p.permAfter = after(ls)
		p.permEdits = []srcEdit{a.replaceLines(f, l, "flow permissions written as a block with id-token: write", ls...)}
		return ""
	}
	wf := get(a.file.Docs[0].Body, "permissions")
	switch {
	case wf == nil:
		kv = [][2]string{{"contents", "read"}}
		p.permWarn = []string{"the workflow sets no permissions, so this job had the repository's default GITHUB_TOKEN permissions; its new permissions block allows only contents: read and id-token: write: add what the job needs (packages: write, pull-requests: write, …)"}
	case scalar(wf.Value) == "write-all" || scalar(getValue(wf.Value, "id-token")) == "write":
		p.permAfter = "(the workflow's permissions, which include id-token: write)\n"
		return ""
	case scalar(wf.Value) != "":
		return "the workflow's permissions: " + scalar(wf.Value) + " cannot be extended with id-token: write at job level; set permissions by hand"
	default:
		if why := set(wf.Value); why != "" {
			return why
		}
	}
	ls := render()
	p.permAfter = after(ls)
	insert := jm.Values[0]
	before := true
	for _, e := range jm.Values {
		if k := keyOf(e); k == "runs-on" || k == "name" || k == "needs" || k == "if" || k == "environment" {
			insert, before = e, false
		}
	}
	f, l := a.entryLines(insert)
	if before {
		p.permEdits = []srcEdit{a.insertLines(f, "job permissions added", ls...)}
	} else {
		p.permEdits = []srcEdit{a.insertLines(l+1, "job permissions added", ls...)}
	}
	return ""
}
