package trust

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/internal/githubfacts"
)

// defaultMaxSession is IAM's default MaxSessionDuration, one hour.
const defaultMaxSession = 3600

// awsRole checks a role object from get-role/list-roles: its trust
// policy, which IAM returns either as JSON or as a URL-encoded string, and
// its MaxSessionDuration.
func (l *linter) awsRole(d *document, role *node) error {
	if !role.is(kindObject) {
		return errors.New("role is not a JSON object")
	}
	pol := role.get("AssumeRolePolicyDocument")
	switch {
	case pol.is(kindObject):
		if err := l.awsPolicy(d, pol); err != nil {
			return err
		}
	case pol.is(kindString):
		inner, err := embeddedPolicy(d, pol)
		if err != nil {
			return err
		}
		l.duplicates(inner)
		if err := l.awsPolicy(inner, inner.root); err != nil {
			return err
		}
	default:
		return fmt.Errorf("%s is neither a policy object nor a string", pol.pathOr(role.path+".AssumeRolePolicyDocument"))
	}
	if m := role.get("MaxSessionDuration"); m.is(kindNumber) {
		if secs, err := strconv.ParseFloat(m.str, 64); err == nil && secs > defaultMaxSession {
			l.add(idAWSMaxSessionLong, 0, nodeLoc(d, m),
				fmt.Sprintf("MaxSessionDuration is %s seconds (%.1f h); CI jobs seldom need more than the default hour", m.str, secs/3600), "")
		}
	}
	return nil
}

// pathOr returns n's path, or def when n is nil.
func (n *node) pathOr(def string) string {
	if n == nil {
		return def
	}
	return n.path
}

// embeddedPolicy decodes a trust policy that get-role printed as a string.
// The IAM API returns it URL-encoded (RFC 3986); some tools decode it and
// print plain JSON inside the string. Positions inside map to the string.
func embeddedPolicy(d *document, s *node) (*document, error) {
	text := strings.TrimSpace(s.str)
	if !strings.HasPrefix(text, "{") {
		// PathUnescape, not QueryUnescape: '+' is a literal plus here.
		dec, err := url.PathUnescape(text)
		if err != nil {
			return nil, fmt.Errorf("%s: URL-decoding the policy: %w", s.path, err)
		}
		text = dec
	}
	inner, err := parseDocument([]byte(text), s.path)
	if err != nil {
		return nil, fmt.Errorf("%s: policy inside the string: %w", s.path, err)
	}
	pos := d.position(s.off)
	inner.embeddedAt = &pos
	return inner, nil
}

// awsPolicy checks every statement of a trust policy document.
func (l *linter) awsPolicy(d *document, pol *node) error {
	stmts := pol.get("Statement")
	var list []*node
	switch {
	case stmts.is(kindObject):
		list = []*node{stmts}
	case stmts.is(kindArray):
		list = stmts.items
	default:
		return fmt.Errorf("%s is neither a statement object nor an array", stmts.pathOr(pol.path+".Statement"))
	}
	return l.awsStatements(d, list)
}

// awsStatements checks the statements of one policy, counting its Allow
// statements because an unconditioned one bypasses the others.
func (l *linter) awsStatements(d *document, list []*node) error {
	allows := 0
	for _, st := range list {
		if !st.is(kindObject) {
			return fmt.Errorf("%s is not a statement object", st.path)
		}
		if st.get("Effect").text() == "Allow" {
			allows++
		}
	}
	for _, st := range list {
		l.awsStatement(d, st, allows)
	}
	return nil
}

// webIdentityAction is the action a federated OIDC principal performs.
const webIdentityAction = "sts:AssumeRoleWithWebIdentity"

// allowsWebIdentity reports whether Action (or NotAction) covers
// sts:AssumeRoleWithWebIdentity. IAM action names are case-insensitive and
// may use * and ?.
func allowsWebIdentity(st *node) bool {
	matches := func(n *node) bool {
		for _, v := range n.values() {
			a, _ := v.scalarText()
			if exchange.Glob(strings.ToLower(a), strings.ToLower(webIdentityAction)) {
				return true
			}
		}
		return false
	}
	if a := st.get("Action"); a != nil {
		return matches(a)
	}
	if na := st.get("NotAction"); na != nil {
		return !matches(na)
	}
	return false
}

// provider is a GitHub OIDC provider a statement trusts.
type provider struct {
	hostPath  string // normalised: lower-case host, then the path
	partition string // aws, aws-cn, aws-us-gov …; "" when unknown
}

// parseProviderARN reads arn:PARTITION:iam::ACCOUNT:oidc-provider/HOST/PATH.
func parseProviderARN(arn string) (hostPath, partition string, ok bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" {
		return "", "", false
	}
	hp, ok := strings.CutPrefix(parts[5], "oidc-provider/")
	if !ok || hp == "" {
		return "", "", false
	}
	return normalHostPath(hp), parts[1], true
}

// condEntry is one key of one operator block of a Condition.
type condEntry struct {
	opName   string
	base     string // lower-case operator without ForAllValues:/ForAnyValue: or IfExists
	forAll   bool
	ifExists bool
	negated  bool
	key      string
	prefix   string // normalised issuer host/path, "" if the key has no GitHub prefix
	claim    string // lower-case claim name after the last ':'
	values   []*node
	at       loc
}

// positive reports whether the entry, when it holds, restricts the claim to
// its values: StringEquals/StringLike and their IgnoreCase/IfExists/set
// forms, not the negated operators.
func (e condEntry) positive() bool {
	return !e.negated && (e.equals() || e.like())
}

func (e condEntry) equals() bool {
	return e.base == "stringequals" || e.base == "stringequalsignorecase"
}

func (e condEntry) like() bool { return e.base == "stringlike" }

func (e condEntry) test() claimTest {
	t := claimTest{claim: e.claim, glob: e.like(), at: e.at}
	for _, v := range e.values {
		s, _ := v.scalarText()
		t.values = append(t.values, s)
	}
	return t
}

// conditionEntries flattens a Condition block, keeping every key.
func conditionEntries(d *document, cond *node) []condEntry {
	if !cond.is(kindObject) {
		return nil
	}
	var out []condEntry
	for _, op := range cond.effective() {
		if !op.val.is(kindObject) {
			continue
		}
		base := strings.ToLower(op.key)
		e := condEntry{opName: op.key}
		if rest, ok := cutPrefixFold(base, "forallvalues:"); ok {
			e.forAll, base = true, rest
		} else if rest, ok := cutPrefixFold(base, "foranyvalue:"); ok {
			base = rest
		}
		if rest, ok := strings.CutSuffix(base, "ifexists"); ok {
			e.ifExists, base = true, rest
		}
		e.base = base
		e.negated = strings.Contains(base, "not")
		for _, m := range op.val.effective() {
			entry := e
			entry.key = m.key
			entry.values = m.val.values()
			entry.at = loc{doc: d, path: m.val.path, off: m.keyOff}
			if i := strings.LastIndexByte(m.key, ':'); i > 0 {
				prefix := normalHostPath(m.key[:i])
				if githubfacts.ClassifyHostPath(prefix) != githubfacts.NotGitHub {
					entry.prefix = prefix
				}
				entry.claim = strings.ToLower(m.key[i+1:])
			}
			out = append(out, entry)
		}
	}
	return out
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

// failOpenClaims are the keys whose absence must never let a token in.
var failOpenClaims = []string{"sub", "aud", "repository", "repository_id", "repository_owner", "repository_owner_id"}

// awsStatement checks one statement.
func (l *linter) awsStatement(d *document, st *node, allows int) {
	if st.get("Effect").text() != "Allow" || !allowsWebIdentity(st) {
		return
	}
	stLoc := nodeLoc(d, st)
	principal := st.get("Principal")
	var (
		providers []provider
		trusted   = map[string]bool{} // providers by host/path
		wildcard  bool
		templated []*node // federated principals whose issuer is a placeholder
	)
	switch {
	case principal.is(kindString):
		wildcard = principal.str == "*"
	case principal.is(kindObject):
		for _, m := range principal.effective() {
			for _, v := range m.val.values() {
				s, _ := v.scalarText()
				switch {
				case s == "*" && (m.key == "Federated" || m.key == "AWS"):
					wildcard = true
				case m.key != "Federated":
				default:
					ph := placeholders(s)
					hp, partition, ok := parseProviderARN(fillPlaceholders(s, ph))
					if ok && githubfacts.ClassifyHostPath(hp) != githubfacts.NotGitHub {
						if !trusted[hp] {
							trusted[hp] = true
							providers = append(providers, provider{hostPath: hp, partition: partition})
						}
						if len(ph) > 0 {
							l.add(idJSONTemplatePlaceholder, Info, nodeLoc(d, v),
								describeTemplated("federated principal", s, ph)+"; it names the GitHub provider "+hp+", which was checked", "")
						}
						continue
					}
					if len(ph) > 0 {
						// Judged below, from the condition keys.
						templated = append(templated, v)
						continue
					}
					l.add(idIssuerUnknown, 0, nodeLoc(d, v),
						fmt.Sprintf("federated principal %q is not a GitHub Actions OIDC provider; GitHub checks skipped for it", s), "")
				}
			}
		}
	}
	if wildcard {
		l.add(idAWSPrincipalWildcard, 0, nodeLoc(d, principal),
			"the principal is \"*\": any identity may call sts:AssumeRoleWithWebIdentity on this role and only the conditions stand in the way", "")
	}

	cond := st.get("Condition")
	entries := conditionEntries(d, cond)
	named := len(providers) > 0
	if (wildcard || len(templated) > 0) && !named {
		// No provider to compare with: judge the GitHub keys that are
		// there, since a key is named after the provider it applies to.
		for _, e := range entries {
			if e.prefix != "" && !trusted[e.prefix] {
				trusted[e.prefix] = true
				providers = append(providers, provider{hostPath: e.prefix})
			}
		}
	}
	l.templatedPrincipals(d, templated, named, providers, entries)
	if len(providers) == 0 {
		return
	}

	if allows > 1 && (!cond.is(kindObject) || len(cond.members) == 0) {
		l.add(idAWSUnconditionedAllow, 0, stLoc,
			fmt.Sprintf("this Allow statement has no Condition, and the policy has %d Allow statements: it admits every token the provider issues whatever the others require", allows), "")
	}

	condLoc := stLoc
	if cond != nil {
		condLoc = nodeLoc(d, cond)
	}
	// Claims that have positive tests under a prefix no provider of this
	// statement issues: the mismatch finding explains them, so "missing"
	// findings for the same claim would only mislead.
	mismatched := map[string]bool{}
	byPrefix := map[string][]condEntry{}
	for _, e := range entries {
		if e.equals() {
			for _, v := range e.values {
				if s, _ := v.scalarText(); hasWildcard(s) {
					l.add(idAWSStringEqualsPattern, 0, nodeLoc(d, v),
						fmt.Sprintf("%s compares %q literally, so the value %q never matches; * and ? are wildcards only in StringLike", e.opName, e.key, s), "")
				}
			}
		}
		if e.prefix == "" {
			continue
		}
		if trusted[e.prefix] {
			for _, v := range e.values {
				if s, _ := v.scalarText(); templatedValue(e.claim, s) {
					l.add(idJSONTemplatePlaceholder, 0, nodeLoc(d, v),
						describeTemplated(fmt.Sprintf("%s value of %q", e.opName, e.key), s, placeholders(s))+
							": the linter cannot check what it admits, so it is not judged", "")
				}
			}
		}
		if !trusted[e.prefix] {
			want := make([]string, len(providers))
			for i, p := range providers {
				want[i] = p.hostPath + ":" + e.claim
			}
			l.add(idAWSKeyPrefixMismatch, 0, e.at,
				fmt.Sprintf("condition key %q does not belong to the trusted provider (%s), so it is absent from every request: under %s it %s",
					e.key, strings.Join(want, ", "), e.opName, absentEffect(e)),
				fmt.Sprintf("Rename the key to %q.", want[0]))
			if e.positive() {
				mismatched[e.claim] = true
			}
			continue
		}
		byPrefix[e.prefix] = append(byPrefix[e.prefix], e)
		if e.forAll || ((e.ifExists || e.negated) && slices.Contains(failOpenClaims, e.claim)) {
			l.add(idAWSOperatorFailsOpen, 0, e.at,
				fmt.Sprintf("%s on %q %s", e.opName, e.key, failOpenReason(e)), "")
		}
	}

	for _, p := range providers {
		l.awsProviderConditions(p, byPrefix[p.hostPath], mismatched, condLoc)
	}
}

// templatedPrincipals reports federated principals that are placeholders.
// When the statement names no real provider, the GitHub issuer its
// condition keys use stands in for it: with the ARN substituted, that is
// the provider the keys apply to, and a placeholder must not turn a
// critical trust into an "issuer unknown" note.
func (l *linter) templatedPrincipals(d *document, templated []*node, named bool, providers []provider, entries []condEntry) {
	var others []string // condition-key prefixes naming some other issuer
	for _, e := range entries {
		if i := strings.LastIndexByte(e.key, ':'); e.prefix == "" && i > 0 && strings.Contains(e.key[:i], ".") &&
			!slices.Contains(others, e.key[:i]) {
			others = append(others, e.key[:i])
		}
	}
	for _, v := range templated {
		s, _ := v.scalarText()
		what := describeTemplated("federated principal", s, placeholders(s))
		switch {
		case named:
			l.add(idJSONTemplatePlaceholder, 0, nodeLoc(d, v),
				what+"; only the statement's other providers were checked", "")
		case len(providers) > 0:
			hps := make([]string, len(providers))
			for i, p := range providers {
				hps[i] = p.hostPath
			}
			l.add(idJSONTemplatePlaceholder, Info, nodeLoc(d, v),
				fmt.Sprintf("%s; checked as the GitHub provider its condition keys name (%s)", what, strings.Join(hps, ", ")), "")
		case len(others) > 0:
			l.add(idIssuerUnknown, 0, nodeLoc(d, v),
				fmt.Sprintf("%s and the condition keys name %s, not a GitHub Actions issuer; GitHub checks skipped",
					what, strings.Join(others, ", ")), "")
		default:
			l.add(idJSONTemplatePlaceholder, 0, nodeLoc(d, v),
				what+" and no condition key names an issuer, so the linter cannot tell which provider this trusts; "+
					"if it is GitHub's, nothing pins the repository", "")
		}
	}
}

func absentEffect(e condEntry) string {
	if e.ifExists || e.negated || e.forAll {
		return "passes for every token, so it restricts nothing"
	}
	return "is false for every token, so the role cannot be assumed through it"
}

func failOpenReason(e condEntry) string {
	switch {
	case e.forAll:
		return "is true when the key is absent (ForAllValues over an empty set), and the key is single-valued anyway"
	case e.ifExists:
		return "passes whenever the key is absent"
	default:
		return "admits every value except those listed, so it is not an allowlist"
	}
}

// awsProviderConditions checks the aud and subject conditions for one
// trusted provider, given the condition entries under its prefix.
func (l *linter) awsProviderConditions(p provider, entries []condEntry, mismatched map[string]bool, condLoc loc) {
	var (
		tests    []claimTest
		audEq    []condEntry
		audOther bool
		// templated are the claims a positive test compares with a
		// placeholder (reported by awsStatement), templatedOnly those with
		// nothing else. What a rendered value admits is unknown, so it is
		// not judged: the test's literal values (ORed with it) still show
		// how broad it is at least, and a claim with placeholders only is
		// neither absent nor known to be broad.
		templated     = map[string]bool{}
		templatedOnly = map[string]bool{}
	)
	for _, e := range entries {
		if !e.positive() {
			continue
		}
		t := e.test()
		if lit := slices.DeleteFunc(slices.Clone(t.values), func(v string) bool { return templatedValue(e.claim, v) }); len(lit) < len(t.values) {
			templated[e.claim] = true
			templatedOnly[e.claim] = templatedOnly[e.claim] || len(lit) == 0
			t.values = lit
		}
		tests = append(tests, t)
		if e.claim == "aud" {
			if e.equals() {
				audEq = append(audEq, e)
			} else {
				audOther = true
			}
		}
	}

	// aud.
	switch {
	case len(audEq) == 0 && !mismatched["aud"] && !templated["aud"]:
		msg := fmt.Sprintf("no StringEquals condition on %q; the role accepts every audience in the provider's client ID list", p.hostPath+":aud")
		if audOther {
			msg = fmt.Sprintf("%q is only matched with StringLike; pin it with StringEquals", p.hostPath+":aud")
		}
		l.add(idAWSAudNotPinned, 0, condLoc, msg,
			fmt.Sprintf("Add \"StringEquals\": {%q: %q}.", p.hostPath+":aud", l.expectedAudiences(p)[0]))
	case len(audEq) > 0:
		want := l.expectedAudiences(p)
		for _, e := range audEq {
			for _, v := range e.values {
				s, _ := v.scalarText()
				if !slices.Contains(want, s) && !hasWildcard(s) && !templatedValue("aud", s) {
					l.add(idAWSAudUnexpected, 0, nodeLoc(e.at.doc, v),
						fmt.Sprintf("%q pins the audience %q, expected %q", e.key, s, strings.Join(want, `" or "`)),
						fmt.Sprintf("Pin %q to %q, or lint with --audience %q if that is the audience your workflows request.", e.key, want[0], s))
				}
			}
		}
	}

	// Subject and repository pins. A pin that is only a placeholder is
	// ANDed with the others and may narrow them to one repository and ref.
	r := evalPins(tests)
	for _, c := range pinClaims {
		if templatedOnly[c] {
			l.triggerChecks(tests)
			return
		}
	}
	switch {
	case !r.pinned:
		if !mismatched["sub"] && !mismatched["repository"] && !mismatched["repository_id"] {
			l.add(idAWSSubMissing, 0, condLoc,
				fmt.Sprintf("no condition on %q (nor on a repository key): any repository on GitHub can assume this role", p.hostPath+":sub"),
				fmt.Sprintf("Add \"StringEquals\": {%q: \"repo:OWNER/REPO:ref:refs/heads/main\"}.", p.hostPath+":sub"))
		}
	case r.scope == scopeAnyRepo:
		l.add(idAWSSubAnyRepo, 0, r.at, "the trust admits repositories of any owner: "+r.why, "")
	case r.scope == scopeOwner:
		sev := Critical
		if !l.opts.Privileged {
			sev = High
		}
		l.add(idAWSSubOrgWide, sev, r.at, "the trust admits every repository of the owner: "+r.why, "")
	case r.scope == scopeAnyRef:
		l.add(idAWSSubAnyRef, 0, r.at, "the trust pins the repository but not one branch, tag or environment: "+r.why, "")
	}
	if r.pinned && r.scope < scopeAnyRepo && r.named && !r.byID {
		l.add(idNamesNotIDs, 0, r.at,
			"the trust pins owner and repository by name; after a rename or deletion the same name can be registered by someone else", "")
	}
	l.triggerChecks(tests)
}

// pinClaims are the claims whose tests [evalPins] counts as pinning the
// repository or its owner.
var pinClaims = []string{"sub", "repository", "repository_id", "repository_owner", "repository_owner_id", "enterprise", "enterprise_id"}

// expectedAudiences is the configured audience, or the default for the
// provider's partition.
func (l *linter) expectedAudiences(p provider) []string {
	if l.opts.Audience != "" {
		return []string{l.opts.Audience}
	}
	if p.partition == "aws-cn" {
		return []string{"sts.amazonaws.com.cn", DefaultAudience}
	}
	return []string{DefaultAudience}
}

// triggerChecks reports pull-request trust and unpinned reusable-workflow
// refs among positive tests; shared by all platforms.
func (l *linter) triggerChecks(tests []claimTest) {
	prSev := High
	if !l.opts.Privileged {
		prSev = Medium
	}
	seen := map[string]bool{}
	for _, t := range tests {
		for _, v := range pullRequestValues(t) {
			if key := "pr\x00" + t.at.path + "\x00" + v; !seen[key] {
				seen[key] = true
				l.add(idPullRequestTrust, prSev, t.at,
					fmt.Sprintf("%s %q admits pull-request runs, whose code has not been reviewed", t.claim, v), "")
			}
		}
		for _, v := range workflowRefValues(t) {
			sev, why := workflowRefProblem(v, t.glob)
			if sev == 0 {
				continue
			}
			if key := "wf\x00" + t.at.path + "\x00" + v; !seen[key] {
				seen[key] = true
				l.add(idWorkflowRefPinning, sev, t.at, "job_workflow_ref: "+why, "")
			}
		}
	}
}
