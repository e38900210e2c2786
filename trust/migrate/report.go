package migrate

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"path"
	"slices"
	"strings"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/trust"
	"github.com/oidc-exchange/oidc-exchange/trust/plan"
)

// trustPlan is one trust configuration and the jobs it serves: jobs of one
// cloud that admit the same ref or environment share it, so a report
// prints each configuration once.
type trustPlan struct {
	ID          string
	Cloud       plan.Cloud
	Ref         string
	Environment string
	Plan        *plan.Plan
	PlanError   string
	Jobs        []*Job
}

// admits says what the plan admits, for people.
func (p *trustPlan) admits() string {
	if p.Environment != "" {
		return "environment " + p.Environment
	}
	return p.Ref
}

// groupPlans gives every job the id of its trust configuration and
// returns the configurations in order of first use.
func groupPlans(jobs []*Job) []*trustPlan {
	var out []*trustPlan
	byKey := map[string]*trustPlan{}
	for _, j := range jobs {
		key := string(j.Cloud) + "\x00" + j.Environment + "\x00" + j.Ref
		if j.Environment != "" {
			// The environment decides the subject; the ref is not pinned.
			key = string(j.Cloud) + "\x00" + j.Environment
		}
		p := byKey[key]
		if p == nil {
			p = &trustPlan{ID: fmt.Sprintf("plan-%d", len(out)+1), Cloud: j.Cloud, Ref: j.Ref, Environment: j.Environment, Plan: j.Plan, PlanError: j.PlanError}
			byKey[key] = p
			out = append(out, p)
		}
		j.PlanID = p.ID
		p.Jobs = append(p.Jobs, j)
	}
	return out
}

// Apply rewrites what [Report.Write] can, then scans again and returns the
// diff and a report of what is left: the jobs that were not rewritten,
// each with a [RuleRewriteRefused] finding that gives the reason, and the
// report-only findings. The left report's Diff holds the diff.
func (r *Report) Apply() (*Report, error) {
	diff, err := r.Write(r.Dir)
	if err != nil {
		return nil, fmt.Errorf("rewriting workflows: %w", err)
	}
	left, err := Scan(r.Dir, r.opts)
	if err != nil {
		return nil, err
	}
	left.Diff = diff
	for _, j := range r.Jobs {
		still := slices.ContainsFunc(left.Jobs, func(l *Job) bool { return l.File == j.File && l.Job == j.Job && l.Cloud == j.Cloud })
		if j.Rewritable && !still {
			left.Rewritten = append(left.Rewritten, j)
		}
	}
	// One numbering for the rewritten jobs' plans and what is left.
	left.plans = groupPlans(slices.Concat(left.Rewritten, left.Jobs))
	// A job the scan deemed rewritable but whose file Write left alone
	// was refused while rewriting; say so rather than claim it can be.
	for _, j := range left.Jobs {
		if !j.Rewritable {
			continue
		}
		j.Rewritable = false
		j.Reason = "the rewrite of this workflow failed a safety check; the file is left untouched"
		left.Findings = append(left.Findings, refusal(j))
	}
	sortFindings(left.Findings)
	return left, nil
}

// Failing returns the findings at or above threshold: what makes
// --fail-on fail.
func (r *Report) Failing(threshold trust.Severity) []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Severity >= threshold {
			out = append(out, f)
		}
	}
	return out
}

// MaxSeverity returns the highest severity of the findings, or the zero
// Severity when there are none.
func (r *Report) MaxSeverity() trust.Severity {
	var m trust.Severity
	for _, f := range r.Findings {
		m = max(m, f.Severity)
	}
	return m
}

// WriteTable writes the diff of [Report.Apply] if any, the findings as an
// aligned table, one row per job (its trust configuration and whether
// --write rewrites it), each distinct replacement step and permissions
// block once, and each distinct trust configuration once.
func (r *Report) WriteTable(w io.Writer) error {
	var b strings.Builder
	b.WriteString(r.Diff)
	if r.Diff != "" {
		b.WriteString("\n")
	}
	if len(r.Findings) == 0 && len(r.Rewritten) == 0 {
		b.WriteString("no long-lived cloud credentials found\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	if len(r.Findings) == 0 {
		b.WriteString("no long-lived cloud credentials left\n")
	}
	rows := make([][]string, len(r.Findings))
	for i, f := range r.Findings {
		loc := f.File
		switch {
		case f.Line > 0 && f.Column > 0:
			loc = fmt.Sprintf("%s:%d:%d", f.File, f.Line, f.Column)
		case f.Line > 0:
			loc = fmt.Sprintf("%s:%d", f.File, f.Line)
		}
		rows[i] = []string{loc, cmpOr(f.Job, "-"), f.Rule, f.Severity.String(), cmpOr(strings.Join(f.Secrets, ","), "-"), f.Message}
	}
	if len(rows) > 0 {
		b.WriteString(exchange.Table([]string{"FILE", "JOB", "RULE", "SEVERITY", "SECRETS", "MESSAGE"}, rows))
	}
	jobs := slices.Concat(r.Rewritten, r.Jobs)
	if len(jobs) == 0 {
		_, err := io.WriteString(w, b.String())
		return err
	}
	rows = rows[:0]
	for _, j := range jobs {
		rw := "yes"
		switch {
		case slices.Contains(r.Rewritten, j):
			rw = "done"
		case !j.Rewritable:
			rw = "no"
		}
		rows = append(rows, []string{j.File, j.Job, string(j.Cloud), strings.Join(j.Secrets, ","), j.PlanID, rw})
	}
	b.WriteString("\n")
	b.WriteString(exchange.Table([]string{"FILE", "JOB", "CLOUD", "SECRETS", "TRUST", "REWRITE"}, rows))
	for _, j := range jobs {
		for _, w := range j.Warnings {
			fmt.Fprintf(&b, "warning: %s job %s: %s\n", j.File, j.Job, w)
		}
	}
	section := func(title string, text, prefix func(*Job) string) {
		var order []string
		users := map[string][]*Job{}
		for _, j := range jobs {
			t := text(j)
			if users[t] == nil {
				order = append(order, t)
			}
			users[t] = append(users[t], j)
		}
		for _, t := range order {
			fmt.Fprintf(&b, "\n== %s%s for %s ==\n%s", prefix(users[t][0]), title, jobList(users[t], len(jobs)), indent(t))
		}
	}
	section("replacement step", func(j *Job) string { return j.Step }, func(j *Job) string { return string(j.Cloud) + " " })
	section("job permissions", func(j *Job) string { return j.Permissions }, func(*Job) string { return "" })
	for _, p := range r.plans {
		fmt.Fprintf(&b, "\n== %s: %s trust admitting %s, for %s ==\n", p.ID, p.Cloud, p.admits(), jobList(p.Jobs, len(jobs)))
		if p.Plan == nil {
			fmt.Fprintf(&b, "%s\n", p.PlanError)
			continue
		}
		// The first artifact (the trust policy, the gcloud commands, the
		// federated credential) is what must be created; the other forms
		// of it and the notes are one plan command away, which keeps a
		// report of many jobs readable.
		short := *p.Plan
		short.Artifacts, short.Notes = short.Artifacts[:min(1, len(short.Artifacts))], nil
		var pb strings.Builder
		if err := short.WriteText(&pb); err != nil {
			return err
		}
		b.WriteString(indent(pb.String()))
		fmt.Fprintf(&b, "\n    # The CLI commands, Terraform and notes: %s\n", r.planCommand(p))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// planCommand is the plan command line that prints p in full.
func (r *Report) planCommand(p *trustPlan) string {
	args := []string{"oidc-exchange", "plan", "--provider", string(p.Cloud), "--repository", r.opts.Repository}
	if r.opts.RepositoryID != "" {
		args = append(args, "--repository-id", r.opts.RepositoryID, "--owner-id", r.opts.OwnerID)
	}
	if p.Environment != "" {
		args = append(args, "--environment", p.Environment)
	} else {
		args = append(args, "--ref", p.Ref)
	}
	for i, a := range args {
		if strings.ContainsFunc(a, func(c rune) bool {
			return !strings.ContainsRune("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:@", c)
		}) {
			args[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(args, " ")
}

// jobList names jobs as FILE/JOB, the file without its directory, or
// "every job" when they are all of the report's total.
func jobList(jobs []*Job, total int) string {
	if len(jobs) == total && total > 1 {
		return "every job"
	}
	names := make([]string, len(jobs))
	for i, j := range jobs {
		names[i] = path.Base(j.File) + "/" + j.Job
	}
	return strings.Join(names, ", ")
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

type jsonPlan struct {
	ID          string          `json:"id"`
	Cloud       plan.Cloud      `json:"cloud"`
	Ref         string          `json:"ref,omitempty"`
	Environment string          `json:"environment,omitempty"`
	Jobs        []string        `json:"jobs"`
	TrustPlan   json.RawMessage `json:"trustPlan,omitempty"`
	PlanError   string          `json:"planError,omitempty"`
}

func planJSON(p *plan.Plan) (json.RawMessage, error) {
	if p == nil {
		return nil, nil
	}
	var pb strings.Builder
	if err := p.WriteJSON(&pb); err != nil {
		return nil, err
	}
	return json.RawMessage(pb.String()), nil
}

// WriteJSON writes {"findings": [...], "jobs": [...], "plans": [...]}:
// each job names its trust configuration in "plan" and, for readers of
// earlier versions, also carries it as "trustPlan", in the form of
// plan.WriteJSON; "plans" holds each distinct configuration once with the
// jobs (FILE#JOB) it serves. After [Report.Apply], "diff" holds the diff.
func (r *Report) WriteJSON(w io.Writer) error {
	out := struct {
		Findings []Finding  `json:"findings"`
		Jobs     []jsonJob  `json:"jobs"`
		Plans    []jsonPlan `json:"plans"`
		Diff     string     `json:"diff,omitempty"`
		// Rewritten are the jobs --write rewrote, with their warnings
		// and the plan they need.
		Rewritten []*Job `json:"rewritten,omitempty"`
	}{Findings: append([]Finding{}, r.Findings...), Jobs: []jsonJob{}, Plans: []jsonPlan{}, Diff: r.Diff, Rewritten: r.Rewritten}
	for _, j := range r.Jobs {
		raw, err := planJSON(j.Plan)
		if err != nil {
			return err
		}
		out.Jobs = append(out.Jobs, jsonJob{Job: j, TrustPlan: raw})
	}
	for _, p := range r.plans {
		raw, err := planJSON(p.Plan)
		if err != nil {
			return err
		}
		jp := jsonPlan{ID: p.ID, Cloud: p.Cloud, Environment: p.Environment, TrustPlan: raw, PlanError: p.PlanError}
		if p.Environment == "" {
			jp.Ref = p.Ref
		}
		for _, j := range p.Jobs {
			jp.Jobs = append(jp.Jobs, j.File+"#"+j.Job)
		}
		out.Plans = append(out.Plans, jp)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}

// WriteSARIF writes a SARIF 2.1.0 log: every rule of [Rules] with its
// page (helpUri) and security-severity, and one result per finding, its
// level from the rule's severity, located at the workflow line. The diff
// of [Report.Apply] is not part of it.
func (r *Report) WriteSARIF(w io.Writer, toolVersion string) error {
	type msg struct {
		Text     string `json:"text"`
		Markdown string `json:"markdown,omitempty"`
	}
	type rule struct {
		ID               string `json:"id"`
		Name             string `json:"name"`
		ShortDescription msg    `json:"shortDescription"`
		FullDescription  msg    `json:"fullDescription"`
		Help             msg    `json:"help"`
		HelpURI          string `json:"helpUri"`
		DefaultConfig    struct {
			Level string `json:"level"`
		} `json:"defaultConfiguration"`
		Properties map[string]any `json:"properties"`
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
		help := trust.HelpURI(rl.DocPath())
		rules[i] = rule{
			ID: rl.ID, Name: trust.SARIFRuleName(rl.ID), ShortDescription: msg{Text: rl.Title}, FullDescription: msg{Text: rl.Description},
			Help: msg{
				Text:     fmt.Sprintf("%s\n\nFix: %s\n\nDocumentation: %s", rl.Description, rl.Help, rl.DocPath()),
				Markdown: fmt.Sprintf("%s\n\n**Fix:** %s\n\nSee [%s](%s).", rl.Description, rl.Help, rl.DocPath(), help),
			},
			HelpURI: help,
			Properties: map[string]any{
				"tags": []string{"security", "oidc", "github-actions"}, "precision": "high",
				"security-severity": rl.Severity.SecuritySeverity(), "severity": rl.Severity.String(),
			},
		}
		rules[i].DefaultConfig.Level = rl.Severity.SARIFLevel()
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
		results = append(results, result{RuleID: f.Rule, RuleIndex: index[f.Rule], Level: f.Severity.SARIFLevel(), Message: msg{Text: text}, Locations: []loc{l}})
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
