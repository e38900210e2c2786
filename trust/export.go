package trust

// The exported forms below let other reports (trust/migrate's) rank and
// link their rules exactly as lint does, from this one place.

// SARIFLevel returns the SARIF result level of s: "error" for critical
// and high, "warning" for medium, "note" below.
func (s Severity) SARIFLevel() string { return s.sarifLevel() }

// SecuritySeverity returns the score GitHub code scanning reads from a
// rule's "security-severity" property to rank alerts.
func (s Severity) SecuritySeverity() string { return s.securitySeverity() }

// HelpURI returns the absolute helpUri of a documentation page given
// relative to the repository root, such as [Check.DocPath]: SARIF requires
// an absolute URI there.
func HelpURI(docPath string) string { return docsBaseURI + docPath }

// SARIFRuleName turns a rule id such as aws-sub-missing into SARIF's
// identifier-like rule name, AwsSubMissing.
func SARIFRuleName(id string) string { return ruleName(id) }
