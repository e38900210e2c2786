package migrate

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/oidc-exchange/oidc-exchange/exchange"
)

// WriteTable writes the findings as an aligned table, then one section per
// job: the replacement step, the permissions and the trust configuration.
func (r *Report) WriteTable(w io.Writer) error {
	if len(r.Findings) == 0 {
		_, err := io.WriteString(w, "no long-lived cloud credentials found\n")
		return err
	}
	rows := make([][]string, len(r.Findings))
	for i, f := range r.Findings {
		rows[i] = []string{fmt.Sprintf("%s:%d:%d", f.File, f.Line, f.Column), f.Job, f.Rule, strings.Join(f.Secrets, ","), f.Message}
	}
	var b strings.Builder
	b.WriteString(exchange.Table([]string{"FILE", "JOB", "RULE", "SECRETS", "MESSAGE"}, rows))
	for _, j := range r.Jobs {
		fmt.Fprintf(&b, "\n== %s job %s (%s) ==\n", j.File, j.Job, j.Cloud)
		fmt.Fprintf(&b, "secrets: %s\n", strings.Join(j.Secrets, ", "))
		if j.Rewritable {
			b.WriteString("rewrite: yes\n")
		} else {
			fmt.Fprintf(&b, "rewrite: no (%s)\n", j.Reason)
		}
		for _, w := range j.Warnings {
			fmt.Fprintf(&b, "warning: %s\n", w)
		}
		if j.Environment != "" {
			fmt.Fprintf(&b, "admits: environment %s\n", j.Environment)
		} else {
			fmt.Fprintf(&b, "admits: %s\n", j.Ref)
		}
		b.WriteString("\nreplacement step:\n" + indent(j.Step) + "\njob permissions:\n" + indent(j.Permissions))
		if j.Plan != nil {
			b.WriteString("\ntrust configuration:\n")
			var pb strings.Builder
			if err := j.Plan.WriteText(&pb); err != nil {
				return err
			}
			b.WriteString(indent(pb.String()))
		} else if j.PlanError != "" {
			fmt.Fprintf(&b, "\ntrust configuration: %s\n", j.PlanError)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func indent(s string) string {
	var b strings.Builder
	for l := range strings.Lines(s) {
		if strings.TrimSpace(l) == "" {
			b.WriteString("\n")
			continue
		}
		b.WriteString("    " + l)
	}
	return b.String()
}

type jsonJob struct {
	*Job
	TrustPlan json.RawMessage `json:"trustPlan,omitempty"`
}

// WriteJSON writes {"findings": [...], "jobs": [...]} with each job's trust
// plan in the form of plan.WriteJSON.
func (r *Report) WriteJSON(w io.Writer) error {
	out := struct {
		Findings []Finding `json:"findings"`
		Jobs     []jsonJob `json:"jobs"`
	}{Findings: append([]Finding{}, r.Findings...), Jobs: []jsonJob{}}
	for _, j := range r.Jobs {
		jj := jsonJob{Job: j}
		if j.Plan != nil {
			var pb strings.Builder
			if err := j.Plan.WriteJSON(&pb); err != nil {
				return err
			}
			jj.TrustPlan = json.RawMessage(pb.String())
		}
		out.Jobs = append(out.Jobs, jj)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}

// Rule describes one rule id for SARIF.
type Rule struct {
	ID, Title, Help string
}

// Rules lists the rules, in SARIF rule-index order.
var Rules = []Rule{
	{RuleAWSStaticKeys, "Static AWS access keys from secrets", "Replace the keys by OIDC: uses oidc-exchange/oidc-exchange@v1 with role-to-assume, permissions id-token: write, and a role trusting this workflow."},
	{RuleGCPCredentialsKey, "Google service-account key from secrets", "Use workload identity federation: oidc-exchange with provider gcp, workload-identity-provider and service-account."},
	{RuleAzureCreds, "Azure client secret from secrets", "Use azure/login with client-id, tenant-id and subscription-id and a federated identity credential."},
	{RuleVaultToken, "Long-lived Vault token", "Use hashicorp/vault-action with method: jwt and a role bound to this workflow's claims."},
	{RuleDeployToken, "Long-lived deploy token", "Check whether the service accepts GitHub OIDC tokens, and use them instead."},
	{RuleSecretInScript, "Cloud secret interpolated into a script", "Move the secret to env: or, better, replace it by OIDC; the migration leaves this job untouched."},
}

// WriteSARIF writes a SARIF 2.1.0 log: one result per finding, level
// warning, located at the workflow line.
func (r *Report) WriteSARIF(w io.Writer, toolVersion string) error {
	type msg struct {
		Text string `json:"text"`
	}
	type rule struct {
		ID               string `json:"id"`
		ShortDescription msg    `json:"shortDescription"`
		Help             msg    `json:"help"`
		DefaultConfig    struct {
			Level string `json:"level"`
		} `json:"defaultConfiguration"`
	}
	type region struct {
		StartLine   int `json:"startLine"`
		StartColumn int `json:"startColumn"`
	}
	type loc struct {
		PhysicalLocation struct {
			ArtifactLocation struct {
				URI string `json:"uri"`
			} `json:"artifactLocation"`
			Region *region `json:"region,omitempty"`
		} `json:"physicalLocation"`
	}
	type result struct {
		RuleID    string `json:"ruleId"`
		RuleIndex int    `json:"ruleIndex"`
		Level     string `json:"level"`
		Message   msg    `json:"message"`
		Locations []loc  `json:"locations"`
	}
	rules := make([]rule, len(Rules))
	index := map[string]int{}
	for i, rl := range Rules {
		rules[i] = rule{ID: rl.ID, ShortDescription: msg{rl.Title}, Help: msg{rl.Help}}
		rules[i].DefaultConfig.Level = "warning"
		index[rl.ID] = i
	}
	results := []result{}
	for _, f := range r.Findings {
		var l loc
		l.PhysicalLocation.ArtifactLocation.URI = (&url.URL{Path: f.File}).String()
		if f.Line > 0 {
			l.PhysicalLocation.Region = &region{f.Line, max(f.Column, 1)}
		}
		text := f.Message
		if len(f.Secrets) > 0 {
			text += " (secrets: " + strings.Join(f.Secrets, ", ") + ")"
		}
		results = append(results, result{RuleID: f.Rule, RuleIndex: index[f.Rule], Level: "warning", Message: msg{text}, Locations: []loc{l}})
	}
	type driver struct {
		Name           string `json:"name"`
		Version        string `json:"version,omitempty"`
		InformationURI string `json:"informationUri"`
		Rules          []rule `json:"rules"`
	}
	log := map[string]any{
		"$schema": "https://json.schemastore.org/sarif-2.1.0.json",
		"version": "2.1.0",
		"runs": []any{map[string]any{
			"tool":       map[string]any{"driver": driver{"oidc-exchange-migrate", toolVersion, "https://github.com/oidc-exchange/oidc-exchange", rules}},
			"results":    results,
			"columnKind": "unicodeCodePoints",
		}},
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(log)
}
