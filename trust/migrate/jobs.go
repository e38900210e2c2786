package migrate

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/goccy/go-yaml/ast"
)

// jobPlan is what scanJob learned about one job, and how to rewrite it.
type jobPlan struct {
	jobMV        *ast.MappingValueNode
	awsSecrets   []string
	gcpSecrets   []string
	azureSecrets []string
	region       string
	configSteps  []ast.Node
	stepEnvs     [][2]ast.Node // step, env entry
	jobEnv       bool
	wfKeys       bool
	unsafe       string
	// gcpSteps are the google-github-actions/auth steps with
	// credentials_json from secrets, at gcpIndex in steps; gcpUnsafe says
	// why they cannot be rewritten, gcpEdits are their in-line edits.
	gcpSteps  []ast.Node
	gcpIndex  []int
	gcpUnsafe string
	gcpEdits  []srcEdit
}

func (p *jobPlan) aws() bool { return len(p.awsSecrets) > 0 }

func (p *jobPlan) gcp() bool { return len(p.gcpSteps) > 0 }

func (a *analysis) add(rule, file, job string, n ast.Node, secrets []string, msg string) {
	l, c := line(n)
	a.findings = append(a.findings, Finding{Rule: rule, File: file, Line: l, Column: c, Job: job, Secrets: uniq(secrets), Message: msg})
}

func (a *analysis) scanJob(file, id string, jmv *ast.MappingValueNode, wfAWS []*ast.MappingValueNode) *jobPlan {
	p := &jobPlan{jobMV: jmv}
	job := jmv.Value
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
		p.region = cmpOr(p.region, scalar(getValue(jenv.Value, "AWS_REGION")), scalar(getValue(jenv.Value, "AWS_DEFAULT_REGION")))
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
	for i, step := range seq(getValue(job, "steps")) {
		act := actionName(scalar(getValue(step, "uses")))
		with := get(step, "with")
		if senv := get(step, "env"); senv != nil {
			for _, e := range secretEnv(senv) {
				s := secretsIn(scalar(e.Value))
				p.awsSecrets = append(p.awsSecrets, s...)
				p.stepEnvs = append(p.stepEnvs, [2]ast.Node{step, e})
				a.add(RuleAWSStaticKeys, file, id, e.Key, s, fmt.Sprintf("step sets %s from secrets; use OIDC with %s", keyOf(e), Action))
			}
			p.region = cmpOr(p.region, scalar(getValue(senv.Value, "AWS_REGION")))
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
			p.configSteps = append(p.configSteps, step)
			p.region = cmpOr(scalar(getValue(getValueMV(with), "aws-region")), p.region)
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

// apply rewrites the job's AST.
func (p *jobPlan) apply(o Options) error {
	job := p.jobMV.Value
	for _, step := range p.configSteps {
		setScalar(get(step, "uses"), Action)
		with := get(step, "with")
		wm, ok := unwrap(with.Value).(*ast.MappingNode)
		if !ok {
			return errors.New("with: is not a mapping")
		}
		hasRole := get(wm, "role-to-assume") != nil
		var keep []*ast.MappingValueNode
		for _, e := range wm.Values {
			switch k := keyOf(e); {
			case k == "aws-access-key-id" && !hasRole:
				renameKey(e, "role-to-assume")
				setScalar(e, o.roleARN())
				keep = append(keep, e)
				hasRole = true
			case slices.Contains(awsKeyInputs, k):
			default:
				keep = append(keep, e)
			}
		}
		if !hasRole {
			_, c := line(wm.Values[0].Key)
			es, err := parseEntries("role-to-assume: "+o.roleARN()+"\n", c)
			if err != nil {
				return err
			}
			keep = append(es, keep...)
		}
		wm.Values = keep
	}
	for _, se := range p.stepEnvs {
		if err := removeEntries(se[0], get(se[0], "env"), awsKeyEnv, true); err != nil {
			return err
		}
	}
	if p.jobEnv {
		if err := removeEntries(job, get(job, "env"), awsKeyEnv, true); err != nil {
			return err
		}
	}
	if len(p.configSteps) == 0 {
		stepsMV := get(job, "steps")
		sn, ok := unwrap(stepsMV.Value).(*ast.SequenceNode)
		if !ok || len(sn.Values) == 0 {
			return errors.New("steps is not a plain sequence")
		}
		c := sn.Start.Position.Column
		unit := 2
		if _, kc := line(firstKey(sn.Values[0])); kc > c {
			unit = kc - c
		}
		ind := strings.Repeat(" ", unit)
		snip := "-" + ind[1:] + "uses: " + Action + "\n" + ind + "with:\n" + ind + ind + "role-to-assume: " + o.roleARN() + "\n"
		if p.region != "" {
			snip += ind + ind + "aws-region: " + p.region + "\n"
		}
		item, err := parseSeqItem(snip, c)
		if err != nil {
			return err
		}
		if len(sn.ValueHeadComments) == len(sn.Values) {
			// Keep head comments with the step they precede.
			sn.ValueHeadComments = append([]*ast.CommentGroupNode{nil}, sn.ValueHeadComments...)
		}
		sn.Values = append([]ast.Node{item}, sn.Values...)
	}
	return addPermissions(p.jobMV)
}

func firstKey(n ast.Node) ast.Node {
	if es := entries(n); len(es) > 0 {
		return es[0].Key
	}
	return n
}

// removeEntries deletes the secret-sourced keys from env entry mv of
// parent, and mv itself when nothing is left.
func removeEntries(parent ast.Node, mv *ast.MappingValueNode, keys []string, onlySecret bool) error {
	if mv == nil {
		return nil
	}
	m, ok := unwrap(mv.Value).(*ast.MappingNode)
	if !ok {
		pm, ok := unwrap(parent).(*ast.MappingNode)
		if ok && len(entries(mv.Value)) == 1 && slices.Contains(keys, keyOf(entries(mv.Value)[0])) {
			pm.Values = slices.DeleteFunc(pm.Values, func(e *ast.MappingValueNode) bool { return e == mv })
			return nil
		}
		return errors.New("env is not a plain mapping")
	}
	m.Values = slices.DeleteFunc(m.Values, func(e *ast.MappingValueNode) bool {
		return slices.Contains(keys, keyOf(e)) && (!onlySecret || len(secretsIn(scalar(e.Value))) > 0)
	})
	if len(m.Values) == 0 {
		pm, ok := unwrap(parent).(*ast.MappingNode)
		if !ok {
			return errors.New("cannot remove empty env")
		}
		pm.Values = slices.DeleteFunc(pm.Values, func(e *ast.MappingValueNode) bool { return e == mv })
	}
	return nil
}

// checkPermissions reports why addPermissions would fail on the job, so
// that the scan says so and no job is half rewritten.
func checkPermissions(jobMV *ast.MappingValueNode) error {
	jm, ok := unwrap(jobMV.Value).(*ast.MappingNode)
	if !ok || len(jm.Values) == 0 || jm.IsFlowStyle {
		return errors.New("job is not a plain block mapping")
	}
	perm := get(jm, "permissions")
	if perm == nil {
		return nil
	}
	switch scalar(perm.Value) {
	case "write-all":
		return nil
	case "":
	default:
		return errors.New("permissions: " + scalar(perm.Value) + " has no id-token: write; set permissions by hand")
	}
	pm, ok := unwrap(perm.Value).(*ast.MappingNode)
	if !ok || len(pm.Values) == 0 || pm.IsFlowStyle {
		return errors.New("permissions is not a block mapping; add id-token: write by hand")
	}
	return nil
}

// addPermissions grants id-token: write; a job without a permissions block
// gets one with contents: read too, which restricts its GITHUB_TOKEN to
// those two scopes.
func addPermissions(jobMV *ast.MappingValueNode) error {
	if err := checkPermissions(jobMV); err != nil {
		return err
	}
	jm, _ := unwrap(jobMV.Value).(*ast.MappingNode)
	unit := indentUnit(jobMV)
	ind := strings.Repeat(" ", unit)
	_, col := line(jm.Values[0].Key)
	perm := get(jm, "permissions")
	if perm == nil {
		es, err := parseEntries("permissions:\n"+ind+"id-token: write\n"+ind+"contents: read\n", col)
		if err != nil {
			return err
		}
		at := 0
		for i, e := range jm.Values {
			if k := keyOf(e); k == "runs-on" || k == "name" || k == "needs" || k == "if" || k == "environment" {
				at = i + 1
			}
		}
		jm.Values = slices.Insert(jm.Values, at, es...)
		return nil
	}
	if scalar(perm.Value) == "write-all" {
		return nil
	}
	pm, _ := unwrap(perm.Value).(*ast.MappingNode)
	if e := get(pm, "id-token"); e != nil {
		if scalar(e.Value) != "write" {
			setScalar(e, "write")
		}
		return nil
	}
	_, c := line(pm.Values[0].Key)
	es, err := parseEntries("id-token: write\n", c)
	if err != nil {
		return err
	}
	pm.Values = append(pm.Values, es...)
	return nil
}
