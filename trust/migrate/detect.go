package migrate

import (
	"fmt"
	"slices"
	"strings"

	"github.com/goccy/go-yaml/ast"

	"github.com/oidc-exchange/oidc-exchange/trust/plan"
)

// The forms found here are report-only: the key goes to an action or a
// tool whose way of reading it the rewrite cannot know, so only a person
// can replace it. scanJob finds the forms --write rewrites.

// wider are the secrets of one job found by scanWider, per cloud.
type wider struct {
	aws, gcp, azure []string
}

// keyInputs are action inputs that carry a key whatever they are called
// elsewhere, normalised by normName.
var keyInputs = map[string]plan.Cloud{
	"credentials-json":    plan.GCP,
	"service-account-key": plan.GCP,
}

// ownInputs are the action and cloud pairs scanJob reports itself.
var ownInputs = map[string]plan.Cloud{
	"aws-actions/configure-aws-credentials": plan.AWS,
	gcpAuthAction:                           plan.GCP,
	"azure/login":                           plan.Azure,
}

// normName turns an input or env name into lower-kebab case, so that
// aws_access_key_id, AWS-ACCESS-KEY-ID and aws-access-key-id compare equal.
func normName(s string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "_", "-")
}

// keyCloud says which cloud's long-lived key a name (of an env variable,
// an input or a secret) stands for, or "" for none. It wants a cloud word
// and a key word, so GCP_PROJECT, AWS_REGION, GOOGLE_API_KEY and
// GCP_SERVICE_ACCOUNT (an e-mail for federation) stay out.
func keyCloud(name string) plan.Cloud {
	n := "-" + normName(name) + "-"
	has := func(words ...string) bool {
		return slices.ContainsFunc(words, func(w string) bool { return strings.Contains(n, "-"+w+"-") })
	}
	has2 := func(words ...string) bool {
		return slices.ContainsFunc(words, func(w string) bool { return strings.Contains(n, w) })
	}
	switch {
	case has("aws") && has2("-access-key-", "-secret-key-", "-secret-access-", "-session-token-", "-secret-"):
		return plan.AWS
	case has("google", "gcp", "gcloud", "gke", "gcs") && !has2("-api-key-") &&
		(has2("-credentials-", "-sa-key-", "-service-key-", "-service-account-key-", "-service-account-json-", "-keyfile-", "-key-json-") ||
			// A service account's key file is JSON: GCP_SA_JSON, GCP_SM_SA_GKE_JSON.
			has("sa") && has("json")):
		return plan.GCP
	case (has("azure") || strings.HasPrefix(n, "-arm-")) &&
		(has2("-client-secret-", "-credentials-", "-client-certificate-password-") ||
			// A service principal's secret: AZURE_SP_KEY, AZURE_SP_SECRET.
			has("sp") && has("key", "secret", "password")):
		return plan.Azure
	}
	return ""
}

// inputCloud classifies input k of action act given secrets.
func inputCloud(act, k string, secrets []string) plan.Cloud {
	c := keyInputs[normName(k)]
	if strings.HasPrefix(act, "azure/") && normName(k) == "creds" {
		// azure/aks-set-context and its kin take azure/login's creds JSON.
		c = plan.Azure
	}
	if c == "" {
		c = keyCloud(k)
	}
	for _, s := range secrets {
		if c != "" {
			break
		}
		c = keyCloud(s)
	}
	if ownInputs[act] == c {
		return ""
	}
	return c
}

func keyKind(c plan.Cloud) (rule, what string) {
	switch c {
	case plan.AWS:
		return RuleAWSStaticKeys, "AWS access keys"
	case plan.GCP:
		return RuleGCPCredentialsKey, "a Google service-account key"
	default:
		return RuleAzureCreds, "an Azure client secret"
	}
}

func (w *wider) add(c plan.Cloud, s []string) {
	switch c {
	case plan.AWS:
		w.aws = append(w.aws, s...)
	case plan.GCP:
		w.gcp = append(w.gcp, s...)
	case plan.Azure:
		w.azure = append(w.azure, s...)
	}
}

// scanWider finds keys from secrets given to any action (local, third
// party, a reusable workflow) under a name of their cloud, and keys in
// env under names other than the standard AWS ones: GCP key JSON, Azure
// client secrets, AWS_ACCESS_KEY and its kin.
func (a *analysis) scanWider(file, id string, jmv *ast.MappingValueNode) *wider {
	w := &wider{}
	job := jmv.Value
	env := func(mv *ast.MappingValueNode, scope string) {
		if mv == nil {
			return
		}
		for _, e := range entries(mv.Value) {
			k := keyOf(e)
			s := secretsIn(scalar(e.Value))
			if len(s) == 0 || slices.Contains(awsKeyEnv, strings.ToUpper(k)) {
				continue
			}
			c := keyCloud(k)
			for _, n := range s {
				if c == "" {
					c = keyCloud(n)
				}
			}
			if c == "" {
				continue
			}
			rule, what := keyKind(c)
			w.add(c, s)
			a.add(rule, file, id, e.Key, s, fmt.Sprintf("%s %s from secrets, %s; replace it with OIDC by hand (report-only)", scope, k, what))
		}
	}
	inputs := func(n ast.Node, act, who string) {
		if _, deploy := deployActions[act]; deploy || act == "hashicorp/vault-action" {
			return
		}
		for _, e := range entries(n) {
			s := secretsIn(scalar(e.Value))
			if len(s) == 0 {
				continue
			}
			c := inputCloud(act, keyOf(e), s)
			if c == "" {
				continue
			}
			rule, what := keyKind(c)
			w.add(c, s)
			a.add(rule, file, id, e.Key, s, fmt.Sprintf("%s is given %s (%s) from secrets; replace it with OIDC by hand (report-only)", who, what, keyOf(e)))
		}
	}
	if a.wfEnv != nil {
		env(a.wfEnv, "job "+id+" inherits workflow env")
	}
	env(get(job, "env"), "job "+id+" sets")
	if uses := scalar(getValue(job, "uses")); uses != "" {
		act := actionName(uses)
		inputs(getValue(job, "with"), act, "reusable workflow "+act)
		inputs(getValue(job, "secrets"), act, "reusable workflow "+act)
	}
	for _, step := range seq(getValue(job, "steps")) {
		env(get(step, "env"), "step sets")
		if uses := scalar(getValue(step, "uses")); uses != "" {
			act := actionName(uses)
			who := act
			if strings.HasPrefix(act, "./") {
				who = "local action " + act
			}
			inputs(getValue(step, "with"), act, who)
		}
	}
	w.aws, w.gcp, w.azure = uniq(w.aws), uniq(w.gcp), uniq(w.azure)
	return w
}

// dropJobTokens removes secrets.GITHUB_TOKEN from deploy-token findings,
// and findings left with no secret: GitHub issues that token per job and
// it expires with the job, so it is not a stored credential to migrate.
func dropJobTokens(fs []Finding) []Finding {
	out := fs[:0]
	for _, f := range fs {
		if f.Rule == RuleDeployToken {
			f.Secrets = slices.DeleteFunc(slices.Clone(f.Secrets), func(s string) bool { return strings.EqualFold(s, "GITHUB_TOKEN") })
			if len(f.Secrets) == 0 {
				continue
			}
		}
		out = append(out, f)
	}
	return out
}
