package trust

import (
	"fmt"
	"strings"

	"github.com/oidc-exchange/oidc-exchange/internal/githubfacts"
)

// gcpProvider checks one workload identity pool provider as printed by
// `gcloud iam workload-identity-pools providers describe --format=json`.
func (l *linter) gcpProvider(d *document, p *node) {
	at := nodeLoc(d, p)
	name := p.get("name").text()
	label := "provider"
	if name != "" {
		label = "provider " + name
	}
	if state := p.get("state").text(); (state != "" && state != "ACTIVE") || p.get("disabled").is(kindBool) && p.get("disabled").boolean {
		if state == "" {
			state = "disabled"
		}
		l.add(idGCPProviderDisabled, 0, at, fmt.Sprintf("%s is %s; its findings apply again once it is restored or enabled", label, state), "")
	}
	oidc := p.get("oidc")
	if !oidc.is(kindObject) {
		l.add(idIssuerUnknown, 0, at, label+" is not an OIDC provider (no oidc block); GitHub checks skipped", "")
		return
	}
	issuerNode := oidc.get("issuerUri")
	if !l.templatedIssuer(locOr(d, issuerNode, oidc), "issuerUri", issuerNode.text()) {
		if kind, why := classifyIssuerURL(issuerNode.text()); kind == githubfacts.NotGitHub {
			l.add(idIssuerUnknown, 0, locOr(d, issuerNode, oidc),
				fmt.Sprintf("issuerUri %q: %s; GitHub checks skipped", issuerNode.text(), why), "")
			return
		}
	}

	for _, a := range oidc.get("allowedAudiences").values() {
		aud, _ := a.scalarText()
		if why := sharedAudience(aud); why != "" {
			l.add(idGCPAudienceShared, 0, nodeLoc(d, a), fmt.Sprintf("allowed audience %q %s", aud, why), "")
		}
	}

	mappingNode := p.get("attributeMapping")
	mapping := map[string]string{}
	if mappingNode.is(kindObject) {
		for _, m := range mappingNode.effective() {
			mapping[m.key] = strings.TrimSpace(m.val.text())
		}
	}
	if subj, ok := mapping["google.subject"]; !ok || subj != "assertion.sub" {
		msg := "attributeMapping has no google.subject=assertion.sub"
		if ok {
			msg = fmt.Sprintf("google.subject is mapped from %q, not assertion.sub", subj)
		}
		l.add(idGCPSubjectUnmapped, 0, locOr(d, mappingNode, p), msg, "")
	}

	condNode := p.get("attributeCondition")
	cond := strings.TrimSpace(condNode.text())
	if cond == "" {
		l.add(idGCPConditionMissing, 0, locOr(d, condNode, p),
			label+" has no attribute condition: tokens from every repository on GitHub enter the pool", "")
		return
	}
	condLoc := nodeLoc(d, condNode)
	expr, err := parseCEL(cond, mapping, condLoc)
	var alts [][]claimTest
	if err == nil {
		alts, err = expr.disjuncts()
	}
	// A placeholder that decides which repositories are admitted is
	// reported instead of judged.
	if templatedExpr(cond, alts, err) {
		l.add(idJSONTemplatePlaceholder, 0, condLoc,
			describeTemplated("the attribute condition", cond, placeholders(cond))+": the linter cannot check which repositories it admits", "")
		return
	}
	if err != nil {
		l.add(idGCPConditionTrivial, 0, condLoc,
			fmt.Sprintf("the attribute condition could not be analysed (%v), so the linter cannot confirm it pins the owner; review it by hand", err), "")
		return
	}
	v := judge(alts)
	switch {
	case !v.broadest.pinned:
		l.add(idGCPConditionTrivial, 0, condLoc,
			fmt.Sprintf("the attribute condition %q does not pin the repository owner in every alternative, so it admits any repository on GitHub", cond), "")
	case v.broadest.scope == scopeAnyRepo:
		l.add(idGCPConditionTrivial, 0, condLoc,
			fmt.Sprintf("the attribute condition %q admits repositories of any owner: %s", cond, v.broadest.why), "")
	case v.namesOnly:
		l.add(idGCPConditionNames, 0, condLoc,
			fmt.Sprintf("the attribute condition %q pins the owner or repository by name only", cond), "")
	}
	l.triggerChecks(v.tests)
}

// templatedIssuer reports an issuer with template placeholders, and
// whether it has any: the rest of the trust is then checked as GitHub's,
// since the rendered issuer cannot be seen. An issuer that is GitHub's
// whatever the placeholders hold (an enterprise slug) is only noted.
func (l *linter) templatedIssuer(at loc, what, issuer string) bool {
	ph := placeholders(issuer)
	if len(ph) == 0 {
		return false
	}
	msg := describeTemplated(what, issuer, ph)
	if kind, _ := classifyIssuerURL(fillPlaceholders(issuer, ph)); kind != githubfacts.NotGitHub {
		l.add(idJSONTemplatePlaceholder, Info, at, msg+"; it names a GitHub issuer, which was checked", "")
		return true
	}
	l.add(idJSONTemplatePlaceholder, 0, at, msg+"; the linter cannot tell which issuer it trusts, and checks the rest as GitHub's", "")
	return true
}

// locOr points at n, or at fallback when n is absent.
func locOr(d *document, n, fallback *node) loc {
	if n != nil {
		return nodeLoc(d, n)
	}
	return nodeLoc(d, fallback)
}

// sharedAudience explains why an audience is accepted elsewhere too, or
// returns "".
func sharedAudience(aud string) string {
	switch {
	case hasWildcard(aud):
		return "is a pattern"
	case aud == "sts.amazonaws.com", aud == "sts.amazonaws.com.cn":
		return "is the audience AWS STS accepts; a token minted for AWS can be replayed here"
	case strings.HasPrefix(aud, "api://AzureADTokenExchange"):
		return "is the audience Microsoft Entra accepts; a token minted for Azure can be replayed here"
	case strings.HasPrefix(aud, "https://github.com/"), strings.HasSuffix(aud, "/_services/token"):
		return "is GitHub's default audience, which every job of the owner gets without asking"
	}
	return ""
}

// gcpPolicy checks IAM bindings from `gcloud … get-iam-policy --format=json`.
func (l *linter) gcpPolicy(d *document, pol *node) error {
	// A policy of only an etag and a version binds no one: gcloud prints
	// it so for a resource without bindings.
	if b := pol.get("bindings"); b != nil && !b.is(kindArray) {
		return fmt.Errorf("%s is not an array of bindings", b.path)
	}
	for _, b := range pol.get("bindings").elems() {
		if !b.is(kindObject) {
			return fmt.Errorf("%s is not a binding object", b.path)
		}
		role := b.get("role").text()
		for _, m := range b.get("members").values() {
			member, _ := m.scalarText()
			l.gcpMember(nodeLoc(d, m), role, member)
		}
	}
	return nil
}

// gcpMember checks one binding member against workload identity pools:
//
//	principalSet://iam.googleapis.com/projects/N/locations/global/workloadIdentityPools/POOL/*
//	principalSet://…/workloadIdentityPools/POOL/attribute.NAME/VALUE
//	principal://…/workloadIdentityPools/POOL/subject/SUBJECT
//
// A member with template placeholders gets a json-template-placeholder
// finding and is checked for what it shows: a placeholder right after the
// host stands for the pool's resource name, as in the
// google-github-actions/auth README's
// principalSet://iam.googleapis.com/${WORKLOAD_IDENTITY_POOL_ID}/attribute.repository/${REPO}.
func (l *linter) gcpMember(at loc, role, member string) {
	ph := placeholders(member)
	rest, tail, ok := "", "", false
	if _, rest, ok = strings.Cut(member, "/workloadIdentityPools/"); ok {
		_, tail, ok = strings.Cut(rest, "/") // drop the pool ID
	} else if len(ph) > 0 {
		tail, ok = templatedPoolTail(member, ph)
	}
	if len(ph) > 0 {
		l.gcpTemplatedMember(at, role, member, ph, tail, ok)
	}
	if !ok {
		return
	}
	switch {
	case strings.HasPrefix(member, "principalSet://") && tail == "*":
		l.add(idGCPBindingWildcard, 0, at,
			fmt.Sprintf("%s is granted to every identity in the pool (%s)", roleName(role), member), "")
	case strings.HasPrefix(member, "principalSet://") && strings.HasPrefix(tail, "attribute."):
		attr, _, _ := strings.Cut(strings.TrimPrefix(tail, "attribute."), "/")
		switch attr {
		case "repository", "repository_owner", "repo", "owner", "org", "organization":
			l.add(idGCPBindingNames, 0, at,
				fmt.Sprintf("%s is granted on the name-based attribute %q (%s)", roleName(role), "attribute."+attr, member), "")
		}
	case strings.HasPrefix(member, "principal://") && strings.HasPrefix(tail, "subject/"):
		sub := strings.TrimPrefix(tail, "subject/")
		if info := classifySubject(sub, false); info.named {
			l.add(idNamesNotIDs, 0, at,
				fmt.Sprintf("%s is granted to the name-based subject %q", roleName(role), sub), "")
		}
		l.triggerChecks([]claimTest{{claim: "sub", values: []string{sub}, at: at}})
	}
}

func roleName(role string) string {
	if role == "" {
		return "the role"
	}
	return role
}

// templatedPoolTail returns what follows the pool in a member whose pool
// resource name is one placeholder: principalSet://iam.googleapis.com/${POOL}/TAIL.
func templatedPoolTail(member string, ph []string) (string, bool) {
	for _, scheme := range []string{"principalSet://", "principal://"} {
		if rest, ok := strings.CutPrefix(member, scheme); ok {
			_, path, ok := strings.Cut(rest, "/") // drop the host
			if ok && strings.HasPrefix(path, ph[0]+"/") {
				return strings.TrimPrefix(path, ph[0]+"/"), true
			}
		}
	}
	return "", false
}

// memberTypes are IAM member prefixes that are not workload identity
// federation: a placeholder in them is not this linter's business.
func memberTypes() []string {
	return []string{"user:", "serviceAccount:", "group:", "domain:", "deleted:", "projectOwner:", "projectEditor:", "projectViewer:"}
}

// gcpTemplatedMember reports a binding member with placeholders. tail is
// what follows the pool when ok; a placeholder there decides whom the
// member admits, one before it only names the project or pool.
func (l *linter) gcpTemplatedMember(at loc, role, member string, ph []string, tail string, ok bool) {
	for _, t := range memberTypes() {
		if strings.HasPrefix(member, t) {
			return
		}
	}
	what := describeTemplated("member", member, ph) + " (granted " + roleName(role) + ")"
	switch {
	case !ok:
		l.add(idJSONTemplatePlaceholder, 0, at, what+": the linter cannot tell which identities it admits", "")
	case len(placeholders(tail)) > 0:
		l.add(idJSONTemplatePlaceholder, 0, at, what+": a placeholder decides which identities it admits, which the linter cannot check", "")
	default:
		l.add(idJSONTemplatePlaceholder, Info, at, what+": only the project or pool is templated; the rest was checked", "")
	}
}
