package trust

import (
	"fmt"
	"strings"
)

// Severity ranks a finding. The order is Info < Low < Medium < High <
// Critical; the zero Severity sorts below Info and means "no finding", which
// is what [Report.MaxSeverity] returns for a clean report, so
// `MaxSeverity() >= failOn` needs no special case.
type Severity int

// Severities, lowest first.
const (
	// Info: not a weakness; context such as "not a GitHub issuer, skipped".
	Info Severity = iota + 1
	// Low: hardening advice.
	Low
	// Medium: a weakness, or a bug that makes the trust fail closed.
	Medium
	// High: a weakness an insider or a pull request can exploit.
	High
	// Critical: anyone on GitHub, or any identity, can obtain credentials.
	Critical
)

var severityNames = [...]string{"none", "info", "low", "medium", "high", "critical"}

// String returns the lower-case name ("critical", …), or "none" for the
// zero value.
func (s Severity) String() string {
	if s >= 0 && int(s) < len(severityNames) {
		return severityNames[s]
	}
	return fmt.Sprintf("Severity(%d)", int(s))
}

// ParseSeverity reads a severity name as written by [Severity.String],
// ignoring case and surrounding space. "none" is rejected: it is not a
// threshold anyone should fail on.
func ParseSeverity(s string) (Severity, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	for i := Info; i <= Critical; i++ {
		if severityNames[i] == name {
			return i, nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q, valid severities are %q", s, severityNames[Info:])
}

// MarshalText writes the name, so JSON output says "high", not 4.
func (s Severity) MarshalText() ([]byte, error) {
	if s < Info || s > Critical {
		return nil, fmt.Errorf("marshalling severity: %v is not a finding severity", s)
	}
	return []byte(s.String()), nil
}

// UnmarshalText is the inverse of [Severity.MarshalText].
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// sarifLevel maps a severity to a SARIF result level: SARIF has only
// error, warning and note, so critical and high are both errors.
func (s Severity) sarifLevel() string {
	switch {
	case s >= High:
		return "error"
	case s == Medium:
		return "warning"
	default:
		return "note"
	}
}

// securitySeverity is the CVSS-like score GitHub code scanning reads from a
// rule's "security-severity" property to label alerts: critical ≥ 9.0,
// high 7.0–8.9, medium 4.0–6.9, low 0.1–3.9.
func (s Severity) securitySeverity() string {
	switch s {
	case Critical:
		return "9.5"
	case High:
		return "8.0"
	case Medium:
		return "5.5"
	case Low:
		return "3.0"
	default:
		return "0.0"
	}
}
