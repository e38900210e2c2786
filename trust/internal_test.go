package trust

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/oidc-exchange/oidc-exchange/internal/githubfacts"
)

func TestClassifySubject(t *testing.T) {
	t.Parallel()
	tests := []struct {
		sub   string
		glob  bool
		scope scope
		byID  bool
		named bool
		pr    bool
		wf    []string
	}{
		{sub: "*", glob: true, scope: scopeAnyRepo},
		{sub: "", glob: true, scope: scopeAnyRepo},
		{sub: "repo:*", glob: true, scope: scopeAnyRepo},
		{sub: "re*", glob: true, scope: scopeAnyRepo},
		{sub: "repo:octo-org*", glob: true, scope: scopeAnyRepo},
		{sub: "repo:octo-org*/octo-repo:*", glob: true, scope: scopeAnyRepo},
		{sub: "repo:o?to-org/octo-repo:ref:refs/heads/main", glob: true, scope: scopeAnyRepo},
		{sub: "repo:octo-org/*", glob: true, scope: scopeOwner, named: true},
		{sub: "repo:octo-org/infra-*", glob: true, scope: scopeOwner, named: true},
		{sub: "repo:octo-org@123456/*", glob: true, scope: scopeOwner, byID: true},
		{sub: "repo:octo-org/octo-repo:*", glob: true, scope: scopeAnyRef, named: true},
		{sub: "repo:octo-org/octo-repo:ref:*", glob: true, scope: scopeAnyRef, named: true},
		{sub: "repo:octo-org/octo-repo:ref:refs/heads/*", glob: true, scope: scopeAnyRef, named: true},
		{sub: "repo:octo-org/octo-repo:ref:refs/tags/*", glob: true, scope: scopeAnyRef, named: true},
		{sub: "repo:octo-org/octo-repo:environment:*", glob: true, scope: scopeAnyRef, named: true},
		{sub: "repo:octo-org/octo-repo:ref:refs/tags/v*", glob: true, scope: scopeExact, named: true},
		{sub: "repo:octo-org/octo-repo:ref:refs/heads/release/*", glob: true, scope: scopeExact, named: true},
		{sub: "repo:octo-org/octo-repo:ref:refs/heads/main", scope: scopeExact, named: true},
		{sub: "repo:octo-org@123456/octo-repo@456789:environment:prod", scope: scopeExact, byID: true},
		{sub: "repo:octo-org/octo-repo:pull_request", scope: scopeExact, named: true, pr: true},
		{sub: "repo:octo-org/octo-repo:ref:refs/pull/*", glob: true, scope: scopeExact, named: true, pr: true},
		// Literal comparisons with wildcards never match anything.
		{sub: "repo:octo-org/*", scope: scopeExact},
		{sub: "*", scope: scopeExact},
		// Malformed: never matches a GitHub sub.
		{sub: "repo:octo-org", scope: scopeExact},
		// Customised subjects.
		{sub: "repository_owner_id:123456:repository_id:456789:environment:prod", scope: scopeExact, byID: true},
		{sub: "repository_owner_id:123456:environment:prod", scope: scopeOwner, byID: true},
		{sub: "repository_owner:octo-org:environment:prod", scope: scopeOwner, named: true},
		{sub: "repository_id:456789", scope: scopeAnyRef, byID: true},
		{sub: "environment:prod", scope: scopeAnyRepo},
		{sub: "repo:octo-org/octo-repo:environment:prod:job_workflow_ref:octo-org/wf/.github/workflows/d.yml@refs/heads/main",
			scope: scopeExact, named: true, wf: []string{"octo-org/wf/.github/workflows/d.yml@refs/heads/main"}},
		{sub: "repository_id:456789:job_workflow_ref:octo-org/wf/.github/workflows/d.yml@*", glob: true, scope: scopeAnyRef, byID: true,
			wf: []string{"octo-org/wf/.github/workflows/d.yml@*"}},
	}
	for _, tc := range tests {
		t.Run(tc.sub, func(t *testing.T) {
			t.Parallel()
			got := classifySubject(tc.sub, tc.glob)
			if got.scope != tc.scope || got.byID != tc.byID || got.named != tc.named || got.pullRequest != tc.pr {
				t.Errorf("classifySubject(%q, %v) = scope %v byID %v named %v pr %v (%s); want %v %v %v %v",
					tc.sub, tc.glob, got.scope, got.byID, got.named, got.pullRequest, got.why, tc.scope, tc.byID, tc.named, tc.pr)
			}
			if diff := cmp.Diff(tc.wf, got.workflowRefs); diff != "" {
				t.Errorf("workflow refs (-want +got):\n%s", diff)
			}
		})
	}
}

// TestBroadContextWording: the reason names what the pattern really
// matches; a tag pattern once claimed to match every branch.
func TestBroadContextWording(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"repo:o/r:ref:refs/tags/*":  "matches every tag",
		"repo:o/r:ref:refs/heads/*": "matches every branch",
		"repo:o/r:ref:*":            "matches every branch, tag and pull-request ref",
		"repo:o/r:ref:refs/*":       "matches every branch, tag and pull-request ref",
		"repo:o/r:environment:*":    "matches every environment",
		"repo:o/r:*":                "matches every branch, tag, environment and pull request",
	}
	for sub, want := range tests {
		got := classifySubject(sub, true)
		if got.scope != scopeAnyRef || !strings.HasSuffix(got.why, want) {
			t.Errorf("classifySubject(%q) = %v, %q; want any-ref ending %q", sub, got.scope, got.why, want)
		}
		if strings.Contains(sub, "tags") && strings.Contains(got.why, "branch") {
			t.Errorf("classifySubject(%q): a tag pattern is said to match branches: %q", sub, got.why)
		}
	}
}

// TestClassifyIssuerURL covers the near misses lint explains; the
// classification itself is githubfacts'.
func TestClassifyIssuerURL(t *testing.T) {
	t.Parallel()
	urls := []struct {
		in   string
		want githubfacts.IssuerKind
		why  string
	}{
		{"https://token.actions.githubusercontent.com", githubfacts.DotCom, ""},
		{"https://token.actions.githubusercontent.com/octo-enterprise", githubfacts.EnterpriseSlug, ""},
		{"https://token.actions.octocorp.ghe.com/octocorp", githubfacts.GHECom, ""},
		{"https://ghes.example.com/_services/token", githubfacts.GHES, ""},
		{"https://token.actions.githubusercontent.com/", githubfacts.NotGitHub, "trailing slash"},
		{"http://token.actions.githubusercontent.com", githubfacts.NotGitHub, "https://"},
		{"https://Token.Actions.GitHubUserContent.com", githubfacts.NotGitHub, "lower-case"},
		{"https://token.actions.githubusercontent.com?x=1", githubfacts.NotGitHub, "query"},
		{"https://gitlab.com", githubfacts.NotGitHub, "not a GitHub"},
		{"token.actions.githubusercontent.com", githubfacts.NotGitHub, "not an absolute URL"},
		{"", githubfacts.NotGitHub, "not an absolute URL"},
	}
	for _, tc := range urls {
		got, why := classifyIssuerURL(tc.in)
		if got != tc.want || !strings.Contains(why, tc.why) {
			t.Errorf("classifyIssuerURL(%q) = %v, %q; want %v and a reason containing %q", tc.in, got, why, tc.want, tc.why)
		}
	}
}

func TestWorkflowRefProblem(t *testing.T) {
	t.Parallel()
	const wf = "octo-org/wf/.github/workflows/deploy.yml"
	tests := []struct {
		v    string
		glob bool
		want Severity
	}{
		{wf + "@refs/heads/main", false, 0},
		{wf + "@refs/heads/master", false, 0},
		{wf + "@refs/tags/v1.2.3", false, 0},
		{wf + "@refs/tags/v*", true, 0},
		{wf + "@0123456789abcdef0123456789abcdef01234567", false, 0},
		{wf + "@refs/heads/dev", false, Medium},
		{wf + "@*", true, High},
		{wf + "@refs/heads/*", true, High},
		{wf + "@refs/tags/*", true, High},
		{"octo-org/*/.github/workflows/deploy.yml@refs/heads/main", true, High},
		{"octo-org/wf/.github/workflows/*", true, High},
		{wf, false, High},
	}
	for _, tc := range tests {
		if got, why := workflowRefProblem(tc.v, tc.glob); got != tc.want {
			t.Errorf("workflowRefProblem(%q, %v) = %v (%s), want %v", tc.v, tc.glob, got, why, tc.want)
		}
	}
}

// verdict summarises what an expression admits for table tests.
type verdict struct {
	Pinned    bool
	Scope     scope
	NamesOnly bool
}

func judgeExpr(t *testing.T, e *boolExpr) verdict {
	t.Helper()
	alts, err := e.disjuncts()
	if err != nil {
		t.Fatal(err)
	}
	v := judge(alts)
	return verdict{Pinned: v.broadest.pinned, Scope: v.broadest.scope, NamesOnly: v.namesOnly}
}

func TestCELConditions(t *testing.T) {
	t.Parallel()
	mapping := map[string]string{
		"google.subject":          "assertion.sub",
		"attribute.repo":          "assertion.repository",
		"attribute.owner_id":      "assertion.repository_owner_id",
		"attribute.complex":       "assertion.repository + 'x'",
		"attribute.repository_id": " assertion.repository_id ",
	}
	unpinned := verdict{Scope: scopeAnyRepo}
	tests := []struct {
		cond string
		want verdict
	}{
		{"true", unpinned},
		{"1 == 1", unpinned},
		{"assertion.sub != ''", unpinned},
		{"has(assertion.sub)", unpinned},
		{"!(assertion.repository_owner_id == '666')", unpinned},
		{"assertion.ref == 'refs/heads/main'", unpinned},
		{"attribute.complex == 'octo-org/octo-repo'", unpinned},
		{"assertion.repository_owner_id == '123456' || true", unpinned},
		{"assertion.repository_owner_id == '123456' || assertion.ref == 'refs/heads/main'", unpinned},
		{"assertion.sub.startsWith('repo:octo-org')", verdict{Pinned: true, Scope: scopeAnyRepo}},
		{"assertion.sub.startsWith('repo:octo-org/')", verdict{Pinned: true, Scope: scopeOwner, NamesOnly: true}},
		{"assertion.repository_owner_id == '123456'", verdict{Pinned: true, Scope: scopeOwner}},
		{"'123456' == attribute.owner_id", verdict{Pinned: true, Scope: scopeOwner}},
		{"assertion['repository_owner_id'] == '123456'", verdict{Pinned: true, Scope: scopeOwner}},
		{"assertion.repository_owner == 'octo-org'", verdict{Pinned: true, Scope: scopeOwner, NamesOnly: true}},
		{"attribute.repo in ['octo-org/a', 'octo-org/b']", verdict{Pinned: true, Scope: scopeAnyRef, NamesOnly: true}},
		{"attribute.repository_id == '456789' && assertion.ref == 'refs/heads/main'", verdict{Pinned: true, Scope: scopeExact}},
		{"google.subject == 'repo:octo-org@1/octo-repo@2:environment:prod'", verdict{Pinned: true, Scope: scopeExact}},
		{"assertion.repository.matches('^octo-org/octo-repo$')", verdict{Pinned: true, Scope: scopeAnyRef, NamesOnly: true}},
		{"assertion.repository.matches('^octo-org/.*')", verdict{Pinned: true, Scope: scopeOwner, NamesOnly: true}},
		{"assertion.repository.matches('octo-org/octo-repo')", unpinned},
		{"(assertion.repository_owner_id == '1' && assertion.repository_id == '2') || (assertion.repository_owner_id == '1' && assertion.repository == 'o/r')",
			verdict{Pinned: true, Scope: scopeAnyRef}},
		{"assertion.repository_owner_id == '1' && (assertion.ref == 'refs/heads/main' || assertion.ref.startsWith('refs/tags/'))",
			verdict{Pinned: true, Scope: scopeOwner}},
		{"assertion.repository_owner == 'octo-org' || assertion.repository_owner_id == '1'", verdict{Pinned: true, Scope: scopeOwner, NamesOnly: true}},
	}
	for _, tc := range tests {
		t.Run(tc.cond, func(t *testing.T) {
			t.Parallel()
			e, err := parseCEL(tc.cond, mapping, loc{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, judgeExpr(t, e)); diff != "" {
				t.Errorf("verdict (-want +got):\n%s", diff)
			}
		})
	}
	for _, bad := range []string{"", "(a == 'b'", "a == 'b", "a = 'b'", "a == 'b')", "a && ", strings.Repeat("(", 100) + "true" + strings.Repeat(")", 100)} {
		if _, err := parseCEL(bad, nil, loc{}); err == nil {
			t.Errorf("parseCEL(%q): no error", bad)
		}
	}
}

func TestAzureExpressions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		expr   string
		want   verdict
		eqWild int
	}{
		{expr: "claims['sub'] matches 'repo:octo-org/octo-repo:ref:refs/heads/*'", want: verdict{Pinned: true, Scope: scopeAnyRef, NamesOnly: true}},
		{expr: "claims['sub'] eq 'repo:octo-org/octo-repo:environment:prod'", want: verdict{Pinned: true, Scope: scopeExact, NamesOnly: true}},
		{expr: "claims['sub'] matches 'repo:octo-org/*'", want: verdict{Pinned: true, Scope: scopeOwner, NamesOnly: true}},
		{expr: "CLAIMS['sub'] MATCHES 'repo:*'", want: verdict{Pinned: true, Scope: scopeAnyRepo}},
		{expr: "claims['job_workflow_ref'] matches 'octo-org/wf/.github/workflows/*.yml@refs/heads/main'", want: verdict{Scope: scopeAnyRepo}},
		{expr: "claims['sub'] matches 'repo:o@1/r@2:*' and claims['ref'] eq 'refs/heads/main'", want: verdict{Pinned: true, Scope: scopeExact}},
		{expr: "(claims['sub'] eq 'repo:o@1/r@2:environment:a') or (claims['sub'] eq 'repo:o@1/r@2:environment:b')", want: verdict{Pinned: true, Scope: scopeExact}},
		{expr: "claims['sub'] eq 'repo:o@1/r@2:environment:a' or not claims['sub'] eq 'x'", want: verdict{Scope: scopeAnyRepo}},
		{expr: "claims['sub'] eq 'repo:o/r:*'", want: verdict{Pinned: true, Scope: scopeExact}, eqWild: 1},
		{expr: "claims['sub'] eq 'it''s'", want: verdict{Pinned: true, Scope: scopeAnyRepo}},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			t.Parallel()
			e, eqWild, err := parseAzureExpression(tc.expr, loc{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, judgeExpr(t, e)); diff != "" {
				t.Errorf("verdict (-want +got):\n%s", diff)
			}
			if len(eqWild) != tc.eqWild {
				t.Errorf("eq wildcards = %d, want %d", len(eqWild), tc.eqWild)
			}
		})
	}
	for _, bad := range []string{"", "claims['sub']", "claims['sub'] like 'x'", "claims[sub] eq 'x'", "claims['sub'] eq 'x' and", "claims['sub'] eq 'x", "(claims['sub'] eq 'x'", "claims['sub'] eq 'x' garbage", "claims['sub'] eq \"x\""} {
		if _, _, err := parseAzureExpression(bad, loc{}); err == nil {
			t.Errorf("parseAzureExpression(%q): no error", bad)
		}
	}
}

func TestDisjunctLimit(t *testing.T) {
	t.Parallel()
	// Ten ORs of two, ANDed: 2^10 alternatives, over the limit.
	cond := strings.TrimSuffix(strings.Repeat("(assertion.a == 'x' || assertion.b == 'y') && ", 10), " && ")
	e, err := parseCEL(cond, nil, loc{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.disjuncts(); !errors.Is(err, errTooComplex) {
		t.Errorf("disjuncts: %v, want errTooComplex", err)
	}
}

func TestParseDocument(t *testing.T) {
	t.Parallel()
	src := "{\n  \"ä\": \"ü\", \"a\": 1,\n  \"o\": {\"k:x\": [true, null], \"k:x\": {}},\n  \"a\": 2\n}"
	d, err := parseDocument([]byte(src), "$")
	if err != nil {
		t.Fatal(err)
	}
	type dup struct {
		Path        string
		Line, Col   int
		First, FCol int
	}
	var got []dup
	for _, x := range d.dups {
		p, f := d.position(x.off), d.position(x.firstOff)
		got = append(got, dup{x.path, p.line, p.column, f.line, f.column})
	}
	want := []dup{{`$.o["k:x"]`, 3, 30, 3, 9}, {"$.a", 4, 3, 2, 13}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("duplicates (-want +got):\n%s", diff)
	}
	// The last duplicate wins, as in encoding/json.
	if v := d.root.get("a"); v == nil || v.str != "2" {
		t.Errorf(`get("a") = %+v, want 2`, v)
	}
	if n := len(d.root.effective()); n != 3 {
		t.Errorf("effective members = %d, want 3", n)
	}
	// Columns count code points: the string "ü" starts at column 8 on line
	// 2 (byte 9, after the two-byte ä).
	if p := d.position(d.root.get("ä").off); p != (position{2, 8}) {
		t.Errorf("position of ü = %+v", p)
	}
	if _, err := parseDocument([]byte(strings.Repeat("[", maxDepth+1)+strings.Repeat("]", maxDepth+1)), "$"); !errors.Is(err, errDepth) {
		t.Errorf("deep nesting: %v, want errDepth", err)
	}
	if _, err := parseDocument([]byte(strings.Repeat("[", maxDepth)+strings.Repeat("]", maxDepth)), "$"); err != nil {
		t.Errorf("nesting at the limit: %v", err)
	}
}

func TestMemberPath(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Statement": "$.Statement",
		"token.actions.githubusercontent.com:sub": `$["token.actions.githubusercontent.com:sub"]`,
		`a"b`: `$["a\"b"]`,
		"":    `$[""]`,
	} {
		if got := memberPath("$", in); got != want {
			t.Errorf("memberPath(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestPlaceholders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want []string
	}{
		{"${oidc_arn}", []string{"${oidc_arn}"}},
		{"arn:${AWS::Partition}:iam::${AWS::AccountId}:oidc-provider/x", []string{"${AWS::Partition}", "${AWS::AccountId}"}},
		{"principalSet://iam.googleapis.com/${WORKLOAD_IDENTITY_POOL_ID}/attribute.repository/${REPO}", []string{"${WORKLOAD_IDENTITY_POOL_ID}", "${REPO}"}},
		{"${var.account_id}", []string{"${var.account_id}"}},
		{`${local.a ? "x" : "y"}`, []string{`${local.a ? "x" : "y"}`}},
		{"{{ .Values.arn }}", []string{"{{ .Values.arn }}"}},
		{"arn:aws:iam::<ACCOUNT_ID>:oidc-provider/token.actions.githubusercontent.com", []string{"<ACCOUNT_ID>"}},
		{"repo:<your org>/<REPO>:*", []string{"<your org>", "<REPO>"}},
		// IAM policy variables and escapes are filled in by IAM.
		{"${aws:username}", nil},
		{"${token.actions.githubusercontent.com:sub}", nil},
		{"a${$}{b}", nil},
		{"${*}${?}", nil},
		// Not placeholders.
		{"assertion.a < 5 && assertion.b > 3", nil},
		{"<>", nil},
		{"<1abc>", nil},
		{"${unterminated", nil},
		{"{{ unterminated", nil},
		{"repo:octo-org/octo-repo:ref:refs/heads/main", nil},
	}
	for _, tc := range tests {
		if diff := cmp.Diff(tc.want, placeholders(tc.in)); diff != "" {
			t.Errorf("placeholders(%q) (-want +got):\n%s", tc.in, diff)
		}
	}
}

// TestTemplatedTrust: templated principals and members are judged as far
// as they can be, and never pass silently.
func TestTemplatedTrust(t *testing.T) {
	t.Parallel()
	const stmt = `{"Statement":[{"Effect":"Allow","Action":"sts:AssumeRoleWithWebIdentity","Principal":{"Federated":%q},"Condition":%s}]}`
	const pinned = `{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com","token.actions.githubusercontent.com:sub":"repo:o@1/r@2:environment:prod"}}`
	type want struct {
		Check    string
		Severity Severity
	}
	binding := func(member string) string {
		return fmt.Sprintf(`{"bindings":[{"role":"roles/iam.workloadIdentityUser","members":[%q]}]}`, member)
	}
	cond := func(sub, aud string) string {
		return `{"StringEquals":{"token.actions.githubusercontent.com:aud":` + aud + `},"StringLike":{"token.actions.githubusercontent.com:sub":` + sub + `}}`
	}
	provider := func(issuer, cond string) string {
		return fmt.Sprintf(`{"name":"projects/1/locations/global/workloadIdentityPools/p/providers/g","attributeMapping":{"google.subject":"assertion.sub"},"attributeCondition":%q,"oidc":{"issuerUri":%q}}`, cond, issuer)
	}
	credential := func(fields string) string {
		return `[{"name":"c","audiences":["api://AzureADTokenExchange"],` + fields + `}]`
	}
	tests := []struct {
		name, doc string
		want      []want
	}{
		{"principal inferred from keys", fmt.Sprintf(stmt, "${oidc_arn}", `{"StringLike":{"token.actions.githubusercontent.com:sub":"repo:o/*"},"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"}}`),
			[]want{{idJSONTemplatePlaceholder, Info}, {idAWSSubOrgWide, Critical}, {idNamesNotIDs, Info}}},
		{"principal inferred, enterprise slug", fmt.Sprintf(stmt, "${var.provider}", `{"StringEquals":{"token.actions.githubusercontent.com/octo-ent:aud":"sts.amazonaws.com"}}`),
			[]want{{idJSONTemplatePlaceholder, Info}, {idAWSSubMissing, Critical}}},
		{"templated account", fmt.Sprintf(stmt, "arn:aws:iam::<ACCOUNT_ID>:oidc-provider/token.actions.githubusercontent.com", pinned),
			[]want{{idJSONTemplatePlaceholder, Info}}},
		{"cloudformation sub", fmt.Sprintf(stmt, "arn:${AWS::Partition}:iam::${AWS::AccountId}:oidc-provider/token.actions.githubusercontent.com", pinned),
			[]want{{idJSONTemplatePlaceholder, Info}}},
		{"principal with no keys", fmt.Sprintf(stmt, "{{ .Values.arn }}", `{}`),
			[]want{{idJSONTemplatePlaceholder, Medium}}},
		{"principal for another issuer", fmt.Sprintf(stmt, "${arn}", `{"StringEquals":{"gitlab.example.com:sub":"project_path:g/p:ref_type:branch:ref:main"}}`),
			[]want{{idIssuerUnknown, Info}}},
		{"principal beside a real provider", `{"Statement":[{"Effect":"Allow","Action":"sts:AssumeRoleWithWebIdentity","Principal":{"Federated":["arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com","${other}"]},"Condition":` + pinned + `}]}`,
			[]want{{idJSONTemplatePlaceholder, Medium}}},
		{"auth README binding", binding("principalSet://iam.googleapis.com/${WORKLOAD_IDENTITY_POOL_ID}/attribute.repository/${REPO}"),
			[]want{{idGCPBindingNames, Medium}, {idJSONTemplatePlaceholder, Medium}}},
		{"templated pool, pinned repository id", binding("principalSet://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/${POOL}/attribute.repository_id/2"),
			[]want{{idJSONTemplatePlaceholder, Info}}},
		{"templated pool, whole pool", binding("principalSet://iam.googleapis.com/${WORKLOAD_IDENTITY_POOL_ID}/*"),
			[]want{{idGCPBindingWildcard, Critical}, {idJSONTemplatePlaceholder, Info}}},
		{"templated subject", binding("principal://iam.googleapis.com/${POOL}/subject/${SUBJECT}"),
			[]want{{idJSONTemplatePlaceholder, Medium}}},
		{"whole member", binding("${MEMBER}"), []want{{idJSONTemplatePlaceholder, Medium}}},
		{"service account member", binding("serviceAccount:${SA}"), nil},

		// Placeholders in the values that decide who is admitted are
		// reported, not judged as literal text.
		{"templated sub", fmt.Sprintf(stmt, "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com", cond(`"${sub}"`, `"sts.amazonaws.com"`)),
			[]want{{idJSONTemplatePlaceholder, Medium}}},
		{"templated sub and a literal owner", fmt.Sprintf(stmt, "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com",
			`{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com","token.actions.githubusercontent.com:sub":"{{ .sub }}","token.actions.githubusercontent.com:repository_owner":"o"}}`),
			[]want{{idJSONTemplatePlaceholder, Medium}}},
		{"templated sub beside any repository", fmt.Sprintf(stmt, "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com", cond(`["${sub}","repo:*"]`, `"sts.amazonaws.com"`)),
			[]want{{idAWSSubAnyRepo, Critical}, {idJSONTemplatePlaceholder, Medium}}},
		{"templated aud", fmt.Sprintf(stmt, "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com", cond(`"repo:o@1/r@2:environment:prod"`, `"<AUDIENCE>"`)),
			[]want{{idJSONTemplatePlaceholder, Medium}}},
		{"policy variable is IAM's", fmt.Sprintf(stmt, "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com", cond(`"repo:*/${aws:PrincipalTag/repo}"`, `"sts.amazonaws.com"`)),
			[]want{{idAWSSubAnyRepo, Critical}}},
		{"environment name is free text", fmt.Sprintf(stmt, "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com",
			`{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com","token.actions.githubusercontent.com:sub":"repo:o@1/r@2:environment:<tag>"}}`),
			nil},
		{"gcp environment name is free text", provider("https://token.actions.githubusercontent.com", "assertion.repository_owner_id == '1' && assertion.repository_id == '2' && assertion.environment == '${HOME}'"),
			nil},
		{"gcp templated condition", provider("https://token.actions.githubusercontent.com", "assertion.repository_owner == '${OWNER}'"),
			[]want{{idJSONTemplatePlaceholder, Medium}}},
		{"gcp whole condition", provider("https://token.actions.githubusercontent.com", "{{ condition }}"),
			[]want{{idJSONTemplatePlaceholder, Medium}}},
		{"gcp templated issuer", provider("${ISSUER}", "assertion.repository_owner_id == '1' && assertion.repository_id == '2'"),
			[]want{{idJSONTemplatePlaceholder, Medium}}},
		{"gcp templated issuer, still checked", provider("${ISSUER}", "assertion.repository_owner != ''"),
			[]want{{idGCPConditionTrivial, Critical}, {idJSONTemplatePlaceholder, Medium}}},
		{"gcp enterprise issuer", provider("https://token.actions.githubusercontent.com/${ENTERPRISE}", "assertion.repository_owner_id == '1' && assertion.repository_id == '2'"),
			[]want{{idJSONTemplatePlaceholder, Info}}},
		{"azure templated subject", credential(`"issuer":"https://token.actions.githubusercontent.com","subject":"repo:${REPO}:environment:prod"`),
			[]want{{idJSONTemplatePlaceholder, Medium}}},
		{"azure templated expression", credential(`"issuer":"https://token.actions.githubusercontent.com","claimsMatchingExpression":{"value":"claims['sub'] matches '<SUBJECT>'","languageVersion":1}`),
			[]want{{idJSONTemplatePlaceholder, Medium}}},
		{"azure templated issuer", credential(`"issuer":"${ISSUER}","subject":"repository_owner_id:1:repository_id:2:environment:prod"`),
			[]want{{idJSONTemplatePlaceholder, Medium}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fs, err := LintFile("t.json", []byte(tc.doc), DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			var got []want
			for _, f := range fs {
				got = append(got, want{f.Check, f.Severity})
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("findings (-want +got):\n%s\n%+v", diff, fs)
			}
		})
	}
}
