package migrate

import (
	"regexp"
	"strings"
	"testing"

	"github.com/oidc-exchange/oidc-exchange/trust"
)

// TestRules checks the rule catalogue; trust's TestCheckDocs holds the
// pages in docs/checks to it.
func TestRules(t *testing.T) {
	t.Parallel()
	idRE := regexp.MustCompile(`^migrate-[a-z0-9]+(-[a-z0-9]+)*$`)
	seen := map[string]bool{}
	for _, r := range Rules {
		if seen[r.ID] || !idRE.MatchString(r.ID) || r.Title == "" || r.Description == "" || r.Help == "" ||
			strings.HasSuffix(r.Title, ".") || r.Severity < trust.Info || r.Severity > trust.Critical {
			t.Errorf("rule %+v", r)
		}
		seen[r.ID] = true
		if got, ok := ruleByID(r.ID); !ok || got.ID != r.ID {
			t.Errorf("ruleByID(%s) = %+v, %v", r.ID, got, ok)
		}
	}
}
