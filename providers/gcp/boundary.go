package gcp

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"cloud.google.com/go/auth/credentials/downscope"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/internal/lazyre"
)

// maxAccessBoundarySize bounds the access-boundary input. Ten rules with
// long CEL conditions fit in a few KiB; the bound keeps a pasted file or a
// runaway template from reaching STS.
const maxAccessBoundarySize = 32 << 10

// AccessBoundary is a parsed Credential Access Boundary: up to ten rules,
// each naming a resource (a Cloud Storage bucket), the roles whose
// permissions remain available on it and optionally a CEL condition.
type AccessBoundary struct {
	Rules []downscope.AccessBoundaryRule
}

// boundaryOptions is the options object of the downscope exchange. Its
// layout and the rule type are the ones cloud.google.com/go/auth's
// downscope package marshals, so [AccessBoundary.JSON] is byte for byte
// what STS receives and its fingerprint names exactly that.
type boundaryOptions struct {
	AccessBoundary boundaryRules `json:"accessBoundary"`
}

type boundaryRules struct {
	AccessBoundaryRules []downscope.AccessBoundaryRule `json:"accessBoundaryRules"`
}

// JSON is the boundary in the CAB schema, compacted:
// {"accessBoundary":{"accessBoundaryRules":[…]}}.
func (b *AccessBoundary) JSON() string {
	out, err := json.Marshal(boundaryOptions{AccessBoundary: boundaryRules{AccessBoundaryRules: b.Rules}})
	if err != nil {
		// Strings only; this cannot happen.
		return ""
	}
	return string(out)
}

// SHA256 fingerprints [AccessBoundary.JSON] for the audit record.
func (b *AccessBoundary) SHA256() string { return exchange.SHA256Hex(b.JSON()) }

// The JSON schema as documented for Credential Access Boundaries. Unknown
// fields are refused: a misspelt "availabilityConditions" would otherwise
// silently widen the boundary to the whole bucket.
type boundaryDoc struct {
	AccessBoundary *struct {
		AccessBoundaryRules []ruleDoc `json:"accessBoundaryRules"`
	} `json:"accessBoundary"`
}

type ruleDoc struct {
	AvailableResource     string        `json:"availableResource"`
	AvailablePermissions  []string      `json:"availablePermissions"`
	AvailabilityCondition *conditionDoc `json:"availabilityCondition"`
}

type conditionDoc struct {
	Expression  string `json:"expression"`
	Title       string `json:"title"`
	Description string `json:"description"`
}

var (
	// Bucket names: 3–222 characters of lowercase letters, digits, dots,
	// dashes and underscores, starting and ending with a letter or digit.
	bucketRE = lazyre.New(`^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$`)
	// Predefined roles, or custom roles of a project or organisation.
	roleRE = lazyre.New(`^(roles/[A-Za-z0-9_.]{1,128}|(projects/[a-z][a-z0-9-]{4,28}[a-z0-9]|organizations/[0-9]{1,20})/roles/[A-Za-z0-9_.]{1,128})$`)
)

const storageBucketPrefix = "//storage.googleapis.com/projects/_/buckets/"

// ParseAccessBoundary reads the access-boundary input. Input starting with
// "{" is the JSON of the CAB schema:
//
//	{"accessBoundary": {"accessBoundaryRules": [{
//	  "availableResource": "//storage.googleapis.com/projects/_/buckets/NAME",
//	  "availablePermissions": ["inRole:roles/storage.objectViewer"],
//	  "availabilityCondition": {"expression": "…"}}]}}
//
// Anything else is the shorthand, one rule per line (blank lines and lines
// starting with # are ignored):
//
//	bucket=NAME:role=roles/storage.objectViewer
//	bucket=NAME:role=roles/storage.objectViewer:role=roles/storage.legacyBucketReader
//	bucket=NAME:role=roles/storage.objectViewer:condition=resource.name.startsWith('projects/_/buckets/NAME/objects/out/')
//
// The condition comes last and runs to the end of the line, so the CEL
// expression may contain colons.
func ParseAccessBoundary(s string) (*AccessBoundary, error) {
	const input = "access-boundary"
	if len(s) > maxAccessBoundarySize {
		return nil, exchange.InputError(input, "is %d bytes; at most %d are accepted", len(s), maxAccessBoundarySize)
	}
	trimmed := strings.TrimSpace(s)
	if trimmed == "" {
		return nil, exchange.InputError(input, "is empty")
	}
	var (
		b   *AccessBoundary
		err error
	)
	if strings.HasPrefix(trimmed, "{") {
		b, err = parseBoundaryJSON(trimmed)
	} else {
		b, err = parseBoundaryLines(trimmed)
	}
	if err != nil {
		return nil, exchange.InputError(input, "%v", err)
	}
	switch {
	case len(b.Rules) == 0:
		return nil, exchange.InputError(input, "has no rules")
	case len(b.Rules) > MaxAccessBoundaryRules:
		return nil, exchange.InputError(input, "has %d rules; a Credential Access Boundary holds at most %d", len(b.Rules), MaxAccessBoundaryRules)
	}
	return b, nil
}

func parseBoundaryJSON(s string) (*AccessBoundary, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	var doc boundaryDoc
	if err := dec.Decode(&doc); err != nil {
		var syntax *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syntax):
			return nil, fmt.Errorf("is not valid JSON (offset %d)", syntax.Offset)
		case errors.Is(err, io.ErrUnexpectedEOF):
			return nil, errors.New("is not valid JSON (it ends early)")
		case errors.As(err, &typ):
			return nil, fmt.Errorf("field %q has the wrong type, want %s", typ.Field, typ.Type)
		default:
			// Unknown fields: the message names the field, which the
			// user wrote; nothing secret.
			return nil, fmt.Errorf("does not follow the schema {\"accessBoundary\":{\"accessBoundaryRules\":[…]}}: %s", exchange.Sanitize(strings.TrimPrefix(err.Error(), "json: ")))
		}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("has data after the JSON object")
	}
	if doc.AccessBoundary == nil {
		return nil, errors.New(`lacks "accessBoundary"; want {"accessBoundary":{"accessBoundaryRules":[…]}}`)
	}
	b := &AccessBoundary{}
	for i, r := range doc.AccessBoundary.AccessBoundaryRules {
		rule := downscope.AccessBoundaryRule{
			AvailableResource:    r.AvailableResource,
			AvailablePermissions: r.AvailablePermissions,
		}
		if c := r.AvailabilityCondition; c != nil {
			rule.Condition = &downscope.AvailabilityCondition{Expression: c.Expression, Title: c.Title, Description: c.Description}
		}
		if err := checkRule(rule); err != nil {
			return nil, fmt.Errorf("rule %d: %w", i+1, err)
		}
		b.Rules = append(b.Rules, rule)
	}
	return b, nil
}

func parseBoundaryLines(s string) (*AccessBoundary, error) {
	b := &AccessBoundary{}
	for n, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(strings.TrimSuffix(line, "\r"))
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		rule, err := parseBoundaryLine(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n+1, err)
		}
		b.Rules = append(b.Rules, rule)
	}
	return b, nil
}

func parseBoundaryLine(line string) (downscope.AccessBoundaryRule, error) {
	var rule downscope.AccessBoundaryRule
	head, cond, hasCond := strings.Cut(line, ":condition=")
	var bucket string
	for i, part := range strings.Split(head, ":") {
		key, value, ok := strings.Cut(part, "=")
		switch {
		case !ok:
			return rule, fmt.Errorf("%q is not key=value; want bucket=NAME:role=roles/…[:condition=CEL]", exchange.Sanitize(part))
		case i == 0 && key != "bucket":
			return rule, errors.New("must start with bucket=NAME")
		case key == "bucket" && i != 0:
			return rule, errors.New("names more than one bucket; write one line per bucket")
		case key == "bucket":
			if !bucketRE().MatchString(value) || strings.Contains(value, "..") {
				return rule, fmt.Errorf("%q is not a bucket name", exchange.Sanitize(value))
			}
			bucket = value
		case key == "role" && value == "inRole":
			return rule, errors.New("write role=roles/…; the shorthand adds inRole: itself")
		case key == "role":
			if !roleRE().MatchString(value) {
				return rule, fmt.Errorf("%q is not a role like roles/storage.objectViewer", exchange.Sanitize(value))
			}
			rule.AvailablePermissions = append(rule.AvailablePermissions, "inRole:"+value)
		case key == "condition":
			// Only reachable with an empty head part; Cut took the rest.
			return rule, errors.New("condition= must come last")
		default:
			return rule, fmt.Errorf("unknown key %q; use bucket, role and condition", exchange.Sanitize(key))
		}
	}
	if len(rule.AvailablePermissions) == 0 {
		return rule, errors.New("needs at least one role=roles/…")
	}
	rule.AvailableResource = storageBucketPrefix + bucket
	if hasCond {
		rule.Condition = &downscope.AvailabilityCondition{Expression: strings.TrimSpace(cond)}
	}
	return rule, checkRule(rule)
}

// checkRule applies what STS checks before the rule could mean anything.
func checkRule(r downscope.AccessBoundaryRule) error {
	switch {
	case r.AvailableResource == "":
		return errors.New("availableResource is required, e.g. //storage.googleapis.com/projects/_/buckets/NAME")
	case !strings.HasPrefix(r.AvailableResource, "//") || !printable(r.AvailableResource) || len(r.AvailableResource) > 1024:
		return fmt.Errorf("availableResource %q is not a full resource name like //storage.googleapis.com/projects/_/buckets/NAME", exchange.Sanitize(r.AvailableResource))
	case len(r.AvailablePermissions) == 0:
		return errors.New("availablePermissions needs at least one inRole:roles/…")
	}
	for _, p := range r.AvailablePermissions {
		role, ok := strings.CutPrefix(p, "inRole:")
		if !ok || !roleRE().MatchString(role) {
			return fmt.Errorf("permission %q is not inRole:<role>, e.g. inRole:roles/storage.objectViewer", exchange.Sanitize(p))
		}
	}
	if dup := firstDuplicate(r.AvailablePermissions); dup != "" {
		return fmt.Errorf("permission %q is listed twice", dup)
	}
	if c := r.Condition; c != nil {
		switch {
		case strings.TrimSpace(c.Expression) == "":
			return errors.New("availabilityCondition needs an expression")
		case len(c.Expression) > 2048 || hasControl(c.Expression) || hasControl(c.Title) || hasControl(c.Description):
			return errors.New("availabilityCondition has control characters or is longer than 2048 characters")
		}
	}
	return nil
}

// hasControl reports control characters other than tab and newline, which
// a multi-line CEL expression may use.
func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsControl(r) && r != '\n' && r != '\t'
	}) || !utf8.ValidString(s)
}
