package plan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// WriteText writes the plan for people: a summary of what it trusts,
// warnings, placeholders, then each artifact under a heading, then notes.
func (p *Plan) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# oidc-exchange plan: %s trust for %s\n\n", p.Cloud, p.Repository)
	field := func(label string, values ...string) {
		for i, v := range values {
			if i == 0 {
				fmt.Fprintf(&b, "%-10s%s\n", label+":", v)
			} else {
				fmt.Fprintf(&b, "%-10s%s\n", "", v)
			}
		}
	}
	field("Issuer", p.Issuer)
	field("Audience", p.Audience)
	field("Subject", p.Subjects...)
	field("Pins", p.Pins...)

	if len(p.Warnings) > 0 {
		b.WriteString("\n## Warnings\n\n")
		for _, w := range p.Warnings {
			b.WriteString("- WARNING: " + w + "\n")
		}
	}
	if len(p.Placeholders) > 0 {
		b.WriteString("\n## Placeholders: replace before applying\n\n")
		for _, ph := range p.Placeholders {
			fmt.Fprintf(&b, "- %s %s: %s\n", ph.Flag, ph.Value, ph.What)
		}
	}
	for _, a := range p.Artifacts {
		fmt.Fprintf(&b, "\n## %s [%s]\n\n", a.Title, a.Name)
		b.WriteString(a.Content)
	}
	if len(p.Notes) > 0 {
		b.WriteString("\n## Notes\n\n")
		for _, n := range p.Notes {
			b.WriteString("- " + n + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// jsonPlaceholder is a [Placeholder] in the JSON output.
type jsonPlaceholder struct {
	Flag  string `json:"flag"`
	Value string `json:"value"`
	What  string `json:"what"`
}

// WriteJSON writes the plan as one JSON object: summary keys (cloud,
// repository, issuer, audience, subjects, pins), then one key per artifact
// by its Name (json artifacts as objects, shell and HCL as strings), then
// warnings, placeholders and notes (always present, possibly empty).
func (p *Plan) WriteJSON(w io.Writer) error {
	type kv struct {
		k string
		v any
	}
	nonNil := func(s []string) []string {
		if s == nil {
			return []string{}
		}
		return s
	}
	fields := []kv{
		{"cloud", p.Cloud},
		{"repository", p.Repository},
		{"issuer", p.Issuer},
		{"audience", p.Audience},
		{"subjects", nonNil(p.Subjects)},
		{"pins", nonNil(p.Pins)},
	}
	for _, a := range p.Artifacts {
		if a.Kind == KindJSON && a.JSON != nil {
			fields = append(fields, kv{a.Name, a.JSON})
		} else {
			fields = append(fields, kv{a.Name, a.Content})
		}
	}
	phs := make([]jsonPlaceholder, len(p.Placeholders))
	for i, ph := range p.Placeholders {
		phs[i] = jsonPlaceholder(ph)
	}
	fields = append(fields,
		kv{"warnings", nonNil(p.Warnings)},
		kv{"placeholders", phs},
		kv{"notes", nonNil(p.Notes)},
	)

	var compact bytes.Buffer
	compact.WriteByte('{')
	for i, f := range fields {
		if i > 0 {
			compact.WriteByte(',')
		}
		k, err := marshalJSON(f.k, "")
		if err != nil {
			return err
		}
		v, err := marshalJSON(f.v, "")
		if err != nil {
			return fmt.Errorf("encoding %s: %w", f.k, err)
		}
		compact.WriteString(k + ":" + v)
	}
	compact.WriteByte('}')
	var out bytes.Buffer
	if err := json.Indent(&out, compact.Bytes(), "", "  "); err != nil {
		return err
	}
	out.WriteByte('\n')
	_, err := w.Write(out.Bytes())
	return err
}
