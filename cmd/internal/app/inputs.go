package app

import (
	"strconv"
	"strings"

	"github.com/oidc-exchange/oidc-exchange/exchange"
)

// inputs reads action inputs the way the runner passes them to a container
// action: INPUT_<NAME>, upper-cased, spaces to underscores, hyphens kept.
type inputs struct {
	getenv func(string) string
}

func inputEnvName(name string) string {
	return "INPUT_" + strings.ToUpper(strings.ReplaceAll(name, " ", "_"))
}

// get returns the trimmed input.
func (in inputs) get(name string) string {
	return strings.TrimSpace(in.getenv(inputEnvName(name)))
}

// raw returns the input untrimmed, for multi-line values.
func (in inputs) raw(name string) string { return in.getenv(inputEnvName(name)) }

// boolean accepts exactly the spellings configure-aws-credentials accepts,
// so a typo fails loudly instead of silently meaning false.
func (in inputs) boolean(name string, def bool) (bool, error) {
	switch v := in.get(name); v {
	case "":
		return def, nil
	case "true", "True", "TRUE":
		return true, nil
	case "false", "False", "FALSE":
		return false, nil
	default:
		return false, exchange.InputError(name, "want true or false, got %q", exchange.Sanitize(v))
	}
}

// integer parses a whole number; empty gives def.
func (in inputs) integer(name string, def int) (int, error) {
	v := in.get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, exchange.InputError(name, "want a whole number, got %q", exchange.Sanitize(v))
	}
	return n, nil
}

// list splits a multi-line or comma-separated input into trimmed items.
func (in inputs) list(name string) []string {
	return splitList(in.raw(name))
}

func splitList(s string) []string {
	var out []string
	for _, item := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' || r == ',' }) {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
