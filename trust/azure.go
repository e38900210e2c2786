package trust

import (
	"fmt"
	"slices"
	"strings"

	"github.com/oidc-exchange/oidc-exchange/internal/githubfacts"
)

// azureAudiences are the audiences azure/login requests in the public,
// US Government and China clouds.
var azureAudiences = []string{"api://AzureADTokenExchange", "api://AzureADTokenExchangeUSGov", "api://AzureADTokenExchangeChina"}

// azureCredential checks one federated identity credential.
func (l *linter) azureCredential(d *document, c *node) {
	at := nodeLoc(d, c)
	label := "federated credential"
	if name := c.get("name").text(); name != "" {
		label = fmt.Sprintf("federated credential %q", name)
	}
	issuerNode := c.get("issuer")
	if !l.templatedIssuer(locOr(d, issuerNode, c), label+": issuer", issuerNode.text()) {
		if kind, why := classifyIssuerURL(issuerNode.text()); kind == githubfacts.NotGitHub {
			l.add(idIssuerUnknown, 0, locOr(d, issuerNode, c),
				fmt.Sprintf("%s: issuer %q: %s; GitHub checks skipped", label, issuerNode.text(), why), "")
			return
		}
	}

	audNode := c.get("audiences")
	auds := audNode.values()
	switch {
	case len(auds) == 0:
		l.add(idAzureAudience, 0, locOr(d, audNode, c), label+" lists no audience", "")
	default:
		for _, a := range auds {
			s, _ := a.scalarText()
			if ph := placeholders(s); len(ph) > 0 {
				l.add(idJSONTemplatePlaceholder, 0, nodeLoc(d, a),
					describeTemplated(label+": audience", s, ph)+": the linter cannot check it", "")
				continue
			}
			if !slices.Contains(azureAudiences, s) {
				l.add(idAzureAudience, 0, nodeLoc(d, a),
					fmt.Sprintf("%s: audience %q is not api://AzureADTokenExchange", label, s), "")
			}
		}
	}

	subjNode := c.get("subject")
	exprNode := c.get("claimsMatchingExpression").get("value")
	// A placeholder that decides which repositories are admitted is
	// reported instead of judged.
	templated := func(what string, n *node, yes bool) bool {
		s, _ := n.scalarText()
		if ph := placeholders(s); len(ph) > 0 && yes {
			l.add(idJSONTemplatePlaceholder, 0, nodeLoc(d, n),
				describeTemplated(label+": "+what, s, ph)+": the linter cannot check which repositories it admits", "")
			return true
		}
		return false
	}
	if templated("subject", subjNode, templatedValue("sub", subjNode.text())) {
		return
	}
	if !subjNode.is(kindString) || subjNode.str == "" {
		expr, _, err := parseAzureExpression(exprNode.text(), nodeLoc(d, c))
		var alts [][]claimTest
		if err == nil {
			alts, err = expr.disjuncts()
		}
		if templated("claimsMatchingExpression", exprNode, templatedExpr(exprNode.text(), alts, err)) {
			return
		}
	}
	switch {
	case subjNode.is(kindString) && subjNode.str != "":
		l.azureSubject(nodeLoc(d, subjNode), label, subjNode.str)
	case exprNode.is(kindString) && exprNode.str != "":
		l.azureExpression(nodeLoc(d, exprNode), label, exprNode.str)
	default:
		l.add(idAzureSubjectUnpinned, 0, at, label+" has neither a subject nor a claimsMatchingExpression", "")
	}
}

// azureSubject checks a classic credential's subject, matched exactly.
func (l *linter) azureSubject(at loc, label, subject string) {
	if hasWildcard(subject) {
		l.add(idAzureSubjectWildcard, 0, at,
			fmt.Sprintf("%s: subject %q is matched exactly, so * and ? never match", label, subject), "")
		return
	}
	t := claimTest{claim: "sub", values: []string{subject}, at: at}
	r := evalPins([]claimTest{t})
	if r.scope >= scopeOwner {
		why := r.why
		if !strings.HasPrefix(subject, githubfacts.SubjectPrefix) && why == "" {
			why = "it names no repository"
		}
		l.add(idAzureSubjectUnpinned, 0, at, fmt.Sprintf("%s: subject %q does not pin owner and repository: %s", label, subject, why), "")
	}
	if r.named && !r.byID && r.scope < scopeOwner {
		l.add(idNamesNotIDs, 0, at, fmt.Sprintf("%s: subject %q pins owner and repository by name", label, subject), "")
	}
	l.triggerChecks([]claimTest{t})
}

// azureExpression checks a flexible credential's claimsMatchingExpression.
func (l *linter) azureExpression(at loc, label, src string) {
	expr, eqWild, err := parseAzureExpression(src, at)
	var alts [][]claimTest
	if err == nil {
		alts, err = expr.disjuncts()
	}
	if err != nil {
		l.add(idAzureExpressionOpen, 0, at,
			fmt.Sprintf("%s: the expression could not be analysed (%v), so the linter cannot confirm it pins owner and repository; review it by hand", label, err), "")
		return
	}
	for _, t := range eqWild {
		l.add(idAzureSubjectWildcard, 0, at,
			fmt.Sprintf("%s: eq compares %q literally, so * and ? never match; use matches for patterns", label, t.values[0]), "")
	}
	v := judge(alts)
	switch {
	case !v.broadest.pinned:
		l.add(idAzureExpressionOpen, 0, at,
			fmt.Sprintf("%s: an alternative of %q pins neither sub nor repository, so it admits any repository", label, src), "")
	case v.broadest.scope >= scopeOwner:
		l.add(idAzureExpressionOpen, 0, at, fmt.Sprintf("%s: %q admits %s: %s", label, src, v.broadest.scope, v.broadest.why), "")
	case v.broadest.scope == scopeAnyRef:
		l.add(idAzureExpressionAnyRef, 0, at, fmt.Sprintf("%s: %q pins the repository but not one branch, tag or environment: %s", label, src, v.broadest.why), "")
	}
	if v.namesOnly && v.broadest.scope < scopeOwner {
		l.add(idNamesNotIDs, 0, at, fmt.Sprintf("%s: %q pins owner and repository by name", label, src), "")
	}
	l.triggerChecks(v.tests)
}
