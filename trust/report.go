package trust

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"path/filepath"
	"slices"
	"strings"

	"github.com/oidc-exchange/oidc-exchange/exchange"
)

// Report is the findings of one lint run over any number of files.
// Writers print findings ordered by file, line and column, whatever the
// order of Findings.
type Report struct {
	Findings []Finding
	// Errors are the files that could not be linted. Writers list them
	// after the findings, ordered by file; a report with errors vouches
	// only for the other files.
	Errors []*FileError
}

// LintFiles lints every named file into one report, reading each with
// read (os.ReadFile in the CLI). A file that cannot be read or linted
// becomes an entry of [Report.Errors] and the run goes on: one stray file
// in a many-file run must not hide the findings in the others.
func LintFiles(names []string, read func(string) ([]byte, error), opts Options) *Report {
	r := &Report{}
	for _, name := range names {
		data, err := read(name)
		if err != nil {
			// A *fs.PathError repeats the name, which FileError already shows.
			if pe, ok := errors.AsType[*fs.PathError](err); ok {
				err = pe.Err
			}
			r.Errors = append(r.Errors, &FileError{File: name, Err: fmt.Errorf("reading: %w", err)})
			continue
		}
		findings, err := LintFile(name, data, opts)
		if err != nil {
			fe, ok := errors.AsType[*FileError](err)
			if !ok {
				fe = &FileError{File: name, Err: err}
			}
			r.Errors = append(r.Errors, fe)
			continue
		}
		r.Findings = append(r.Findings, findings...)
	}
	return r
}

// MaxSeverity returns the highest severity among the findings, or the zero
// Severity (below [Info]) when there are none.
func (r *Report) MaxSeverity() Severity {
	var m Severity
	for _, f := range r.Findings {
		m = max(m, f.Severity)
	}
	return m
}

// sorted returns a sorted copy, never nil, so JSON shows [] for no findings.
func (r *Report) sorted() []Finding {
	fs := append(make([]Finding, 0, len(r.Findings)), r.Findings...)
	sortFindings(fs)
	return fs
}

// sortedErrors returns the errors ordered by file, never nil.
func (r *Report) sortedErrors() []*FileError {
	es := append(make([]*FileError, 0, len(r.Errors)), r.Errors...)
	slices.SortStableFunc(es, func(a, b *FileError) int { return cmp.Compare(a.File, b.File) })
	return es
}

// location renders file:line:column, or the file alone without a position.
func (f Finding) location() string {
	if f.Line <= 0 {
		return f.File
	}
	return fmt.Sprintf("%s:%d:%d", f.File, f.Line, f.Column)
}

// WriteTable writes an aligned plain-text table (file:line:column, check,
// severity, message, fix), or "no findings", then the files that could not
// be linted, if any.
func (r *Report) WriteTable(w io.Writer) error {
	fs := r.sorted()
	var b strings.Builder
	if len(fs) == 0 {
		b.WriteString("no findings\n")
	} else {
		rows := make([][]string, len(fs))
		for i, f := range fs {
			rows[i] = []string{f.location(), f.Check, f.Severity.String(), f.Message, f.Fix}
		}
		b.WriteString(exchange.Table([]string{"FILE", "CHECK", "SEVERITY", "MESSAGE", "FIX"}, rows))
	}
	if es := r.sortedErrors(); len(es) > 0 {
		// Said outright, so that "no findings" above is not read as a pass
		// for these files.
		fmt.Fprintf(&b, "\nerror: %d file(s) could not be linted, so nothing above vouches for them:\n", len(es))
		rows := make([][]string, len(es))
		for i, e := range es {
			rows[i] = []string{e.File, "error", e.Err.Error()}
		}
		b.WriteString(exchange.Table([]string{"FILE", "SEVERITY", "ERROR"}, rows))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// JSONVersion is the version field of [Report.WriteJSON] output. It changes
// only when a field is removed or changes meaning; fields may be added.
const JSONVersion = 1

// jsonReport is the --format json document:
//
//	{
//	  "version": 1,
//	  "summary": {"critical": 0, "high": 1, "medium": 0, "low": 0, "info": 0},
//	  "findings": [
//	    {"file": "role.json", "check": "aws-sub-missing", "severity": "critical",
//	     "message": "…", "fix": "…", "path": "$.Statement[0].Condition",
//	     "line": 7, "column": 20}
//	  ],
//	  "errors": [
//	    {"file": "package.json", "severity": "error", "message": "unrecognised document (JSON object): …"}
//	  ]
//	}
//
// findings and errors are always arrays; line and column are 0 when
// unknown. errors lists the files that could not be linted.
type jsonReport struct {
	Version  int             `json:"version"`
	Summary  jsonSummary     `json:"summary"`
	Findings []Finding       `json:"findings"`
	Errors   []jsonFileError `json:"errors"`
}

type jsonFileError struct {
	File     string `json:"file"`
	Severity string `json:"severity"` // always "error", to read like a finding's level
	Message  string `json:"message"`
}

type jsonSummary struct {
	Critical int `json:"critical"`
	High     int `json:"high"`
	Medium   int `json:"medium"`
	Low      int `json:"low"`
	Info     int `json:"info"`
}

// WriteJSON writes the findings as one JSON object; see docs/checks/README.md
// for the schema.
func (r *Report) WriteJSON(w io.Writer) error {
	out := jsonReport{Version: JSONVersion, Findings: r.sorted(), Errors: []jsonFileError{}}
	for _, e := range r.sortedErrors() {
		out.Errors = append(out.Errors, jsonFileError{File: e.File, Severity: "error", Message: e.Err.Error()})
	}
	for _, f := range out.Findings {
		switch f.Severity {
		case Critical:
			out.Summary.Critical++
		case High:
			out.Summary.High++
		case Medium:
			out.Summary.Medium++
		case Low:
			out.Summary.Low++
		case Info:
			out.Summary.Info++
		}
	}
	return encodeJSON(w, out)
}

func encodeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("writing JSON: %w", err)
	}
	return nil
}

const (
	sarifSchema    = "https://json.schemastore.org/sarif-2.1.0.json"
	toolName       = "oidc-exchange"
	informationURI = "https://github.com/oidc-exchange/oidc-exchange"
	// docsBaseURI makes helpUri absolute: SARIF (§3.49.12) and its schema
	// (format "uri") require an absolute URI there. The relative
	// docs/checks/<id>.md path is in the help text instead.
	docsBaseURI = informationURI + "/blob/main/"
)

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool        sarifTool         `json:"tool"`
	Invocations []sarifInvocation `json:"invocations,omitempty"`
	Results     []sarifResult     `json:"results"`
	ColumnKind  string            `json:"columnKind"`
}

// sarifInvocation carries the files that could not be linted as
// error-level tool execution notifications (SARIF §3.20.21), which is
// where code scanning shows problems with the run rather than the code.
type sarifInvocation struct {
	ExecutionSuccessful        bool                `json:"executionSuccessful"`
	ToolExecutionNotifications []sarifNotification `json:"toolExecutionNotifications"`
}

type sarifNotification struct {
	Level     string          `json:"level"`
	Message   sarifMessage    `json:"message"`
	Locations []sarifLocation `json:"locations"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifMessage struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type sarifRule struct {
	ID                   string          `json:"id"`
	Name                 string          `json:"name"`
	ShortDescription     sarifMessage    `json:"shortDescription"`
	FullDescription      sarifMessage    `json:"fullDescription"`
	Help                 sarifMessage    `json:"help"`
	HelpURI              string          `json:"helpUri"`
	DefaultConfiguration sarifRuleConfig `json:"defaultConfiguration"`
	Properties           sarifRuleProps  `json:"properties"`
}

type sarifRuleConfig struct {
	Level string `json:"level"`
}

// sarifRuleProps carries what GitHub code scanning reads: tags, and
// security-severity to rank alerts as critical/high/medium/low.
type sarifRuleProps struct {
	Tags             []string `json:"tags"`
	Precision        string   `json:"precision"`
	SecuritySeverity string   `json:"security-severity"`
	Platform         string   `json:"platform"`
	Severity         string   `json:"severity"`
}

type sarifResult struct {
	RuleID     string           `json:"ruleId"`
	RuleIndex  int              `json:"ruleIndex"`
	Level      string           `json:"level"`
	Message    sarifMessage     `json:"message"`
	Locations  []sarifLocation  `json:"locations"`
	Properties sarifResultProps `json:"properties"`
}

type sarifResultProps struct {
	Severity string `json:"severity"`
	Fix      string `json:"fix"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical  `json:"physicalLocation"`
	LogicalLocations []sarifLogical `json:"logicalLocations,omitempty"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn"`
}

// sarifLogical names the JSON path of the finding.
type sarifLogical struct {
	FullyQualifiedName string `json:"fullyQualifiedName"`
}

// WriteSARIF writes a SARIF 2.1.0 log with one run. Every check in the
// catalogue is a rule (so ruleIndex is stable across runs); a result's
// level follows its severity: critical and high are "error", medium
// "warning", low and info "note". toolVersion may be empty.
func (r *Report) WriteSARIF(w io.Writer, toolVersion string) error {
	checks := Checks()
	index := make(map[string]int, len(checks))
	rules := make([]sarifRule, len(checks))
	for i, c := range checks {
		index[c.ID] = i
		helpURI := docsBaseURI + c.DocPath()
		rules[i] = sarifRule{
			ID:               c.ID,
			Name:             ruleName(c.ID),
			ShortDescription: sarifMessage{Text: c.Title},
			FullDescription:  sarifMessage{Text: c.Description},
			Help: sarifMessage{
				Text:     fmt.Sprintf("%s\n\nFix: %s\n\nDocumentation: %s", c.Description, c.Fix, c.DocPath()),
				Markdown: fmt.Sprintf("%s\n\n**Fix:** %s\n\nSee [%s](%s).", c.Description, c.Fix, c.DocPath(), helpURI),
			},
			HelpURI:              helpURI,
			DefaultConfiguration: sarifRuleConfig{Level: c.Severity.sarifLevel()},
			Properties: sarifRuleProps{
				Tags:             []string{"security", "oidc", c.Platform},
				Precision:        "high",
				SecuritySeverity: c.Severity.securitySeverity(),
				Platform:         c.Platform,
				Severity:         c.Severity.String(),
			},
		}
	}
	results := make([]sarifResult, 0, len(r.Findings))
	for _, f := range r.sorted() {
		i, ok := index[f.Check]
		if !ok {
			return fmt.Errorf("writing SARIF: finding for unknown check %q", f.Check)
		}
		l := sarifLocation{PhysicalLocation: sarifPhysical{ArtifactLocation: sarifArtifact{URI: fileURI(f.File)}}}
		if f.Line > 0 {
			l.PhysicalLocation.Region = &sarifRegion{StartLine: f.Line, StartColumn: max(f.Column, 1)}
		}
		if f.Path != "" {
			l.LogicalLocations = []sarifLogical{{FullyQualifiedName: f.Path}}
		}
		results = append(results, sarifResult{
			RuleID:     f.Check,
			RuleIndex:  i,
			Level:      f.Severity.sarifLevel(),
			Message:    sarifMessage{Text: f.Message + ". Fix: " + f.Fix},
			Locations:  []sarifLocation{l},
			Properties: sarifResultProps{Severity: f.Severity.String(), Fix: f.Fix},
		})
	}
	var invocations []sarifInvocation
	if es := r.sortedErrors(); len(es) > 0 {
		inv := sarifInvocation{ExecutionSuccessful: false}
		for _, e := range es {
			inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, sarifNotification{
				Level:     "error",
				Message:   sarifMessage{Text: e.Error()},
				Locations: []sarifLocation{{PhysicalLocation: sarifPhysical{ArtifactLocation: sarifArtifact{URI: fileURI(e.File)}}}},
			})
		}
		invocations = []sarifInvocation{inv}
	}
	log := sarifLog{
		Schema:  sarifSchema,
		Version: "2.1.0",
		Runs: []sarifRun{{
			Tool:        sarifTool{Driver: sarifDriver{Name: toolName, Version: toolVersion, InformationURI: informationURI, Rules: rules}},
			Invocations: invocations,
			Results:     results,
			ColumnKind:  "unicodeCodePoints",
		}},
	}
	return encodeJSON(w, log)
}

// ruleName turns aws-sub-missing into AwsSubMissing, SARIF's
// identifier-like rule name.
func ruleName(id string) string {
	var b strings.Builder
	for part := range strings.SplitSeq(id, "-") {
		if part == "" {
			continue
		}
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

// fileURI turns a file name into a relative or absolute URI reference:
// forward slashes, percent-encoded where needed.
func fileURI(name string) string {
	u := url.URL{Path: filepath.ToSlash(name)}
	return u.String()
}
