package plan

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestArtifactsAgree runs every shell artifact through a real POSIX shell
// with the cloud CLIs stubbed out, decodes the Terraform strings with an
// independent HCL unquoter and the CEL condition with a strict parser, and
// requires that all of them carry exactly the values of the plan's JSON
// artifacts. A quoting bug shows up as a shell error, an extra or missing
// argument, or a value that differs.
func TestArtifactsAgree(t *testing.T) {
	t.Parallel()
	cases := generateRequests(150)
	// Hostile environment names through every cloud.
	for _, env := range hostileEnvironments() {
		for _, cloud := range Clouds {
			cases = append(cases, genCase{name: string(cloud) + "/" + env,
				req: Request{Cloud: cloud, Repository: "o/r", RepositoryID: "2", OwnerID: "1", Environment: env}})
		}
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p, err := Build(c.req)
			if err != nil {
				t.Fatalf("Build(%+v): %v", c.req, err)
			}
			art := map[string]Artifact{}
			for _, a := range p.Artifacts {
				art[a.Name] = a
				if a.Kind == KindJSON {
					var v any
					if err := json.Unmarshal([]byte(a.Content), &v); err != nil {
						t.Errorf("%s is not JSON: %v", a.Name, err)
					}
				}
			}
			switch p.Cloud {
			case AWS:
				checkAWS(t, c.req, art)
			case GCP:
				checkGCP(t, c.req, art)
			case Azure:
				checkAzure(t, art)
			}
		})
	}
}

// hostileEnvironments are the valid environment names that are hardest to
// quote.
func hostileEnvironments() []string {
	var out []string
	for _, s := range hostile {
		if validateEnvironment(s) == nil && s != "" {
			out = append(out, s)
		}
	}
	return out
}

func decodeJSON(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("decoding %q: %v", s, err)
	}
	return v
}

// tfLine returns the one Terraform line that assigns key.
func tfLine(t *testing.T, tf, key string) string {
	t.Helper()
	var found []string
	for _, line := range strings.Split(tf, "\n") {
		k, _, ok := strings.Cut(strings.TrimSpace(line), " ")
		if ok && k == key {
			found = append(found, line)
		}
	}
	if len(found) != 1 {
		t.Fatalf("terraform has %d lines assigning %s:\n%s", len(found), key, tf)
	}
	return found[0]
}

// tfStrings decodes the quoted strings on a Terraform line after the "=".
func tfStrings(t *testing.T, line string) []string {
	t.Helper()
	_, rhs, _ := strings.Cut(line, " = ")
	var out []string
	for _, lit := range hclStrings(rhs) {
		v, err := hclUnquote(lit)
		if err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		out = append(out, v)
	}
	return out
}

func checkAWS(t *testing.T, req Request, art map[string]Artifact) {
	policy := decodeJSON(t, art["aws_trust_policy"].Content)
	calls := runShell(t, art["aws_cli"].Content, "aws")
	if len(calls) != 2 {
		t.Fatalf("aws_cli ran %d commands, want 2", len(calls))
	}
	if got := calls[0].args[:2]; !slices.Equal(got, []string{"iam", "create-open-id-connect-provider"}) {
		t.Errorf("first command %q", got)
	}
	provider := art["aws_oidc_provider"].JSON.(OIDCProviderInput)
	if f := calls[0].flags(); f["--url"] != provider.URL || f["--client-id-list"] != provider.ClientIDList[0] {
		t.Errorf("create-open-id-connect-provider flags %q, want %+v", f, provider)
	}
	f := calls[1].flags()
	if diff := cmp.Diff(policy, decodeJSON(t, f["--assume-role-policy-document"])); diff != "" {
		t.Errorf("create-role policy differs from aws_trust_policy (-want +got):\n%s", diff)
	}
	if f["--max-session-duration"] != "3600" {
		t.Errorf("max session duration %q", f["--max-session-duration"])
	}

	// Terraform: every condition value decodes to the policy's.
	tf := art["terraform"].Content
	tp := art["aws_trust_policy"].JSON.(TrustPolicy)
	for op, keys := range tp.Statement[0].Condition {
		for key, v := range keys {
			want := []string{}
			switch v := v.(type) {
			case string:
				want = append(want, v)
			case []string:
				want = v
			}
			if diff := cmp.Diff(want, tfStrings(t, tfLine(t, tf, hclString(key)))); diff != "" {
				t.Errorf("terraform %s %s (-want +got):\n%s", op, key, diff)
			}
		}
	}
	if got := tfStrings(t, tfLine(t, tf, "url")); !slices.Equal(got, []string{provider.URL}) {
		t.Errorf("terraform url %q", got)
	}
	// The subjects are built from the request, not from each other.
	prefix := strings.TrimPrefix(provider.URL, "https://")
	subs := tp.Statement[0].Condition
	var sub any
	for _, keys := range subs {
		if v, ok := keys[prefix+":sub"]; ok {
			sub = v
		}
	}
	if sub == nil {
		t.Fatalf("no %s:sub condition in %+v", prefix, subs)
	}
	if req.RepositoryID != "" {
		if subs["StringEquals"][prefix+":repository_id"] != req.RepositoryID {
			t.Errorf("repository_id not pinned: %+v", subs)
		}
	}
}

func checkGCP(t *testing.T, req Request, art map[string]Artifact) {
	desc := art["gcp_provider"].JSON.(WorkloadIdentityProvider)
	calls := runShell(t, art["gcloud"].Content, "gcloud")
	if len(calls) != 3 {
		t.Fatalf("gcloud ran %d commands, want 3", len(calls))
	}
	pool, provider, binding := calls[0], calls[1], calls[2]
	poolID := pool.positional()[len(pool.positional())-1]
	providerID := provider.positional()[len(provider.positional())-1]
	if !strings.HasSuffix(desc.Name, "/workloadIdentityPools/"+poolID+"/providers/"+providerID) {
		t.Errorf("provider name %s does not match pool %s, provider %s", desc.Name, poolID, providerID)
	}
	f := provider.flags()
	if f["--attribute-condition"] != desc.AttributeCondition {
		t.Errorf("shell condition %q\nwant %q", f["--attribute-condition"], desc.AttributeCondition)
	}
	if f["--issuer-uri"] != desc.OIDC.IssuerURI || f["--allowed-audiences"] != strings.Join(desc.OIDC.AllowedAudiences, ",") {
		t.Errorf("issuer/audiences %q %q, want %+v", f["--issuer-uri"], f["--allowed-audiences"], desc.OIDC)
	}
	mapping := map[string]string{}
	for _, kv := range strings.Split(f["--attribute-mapping"], ",") {
		k, v, _ := strings.Cut(kv, "=")
		mapping[k] = v
	}
	if diff := cmp.Diff(desc.AttributeMapping, mapping); diff != "" {
		t.Errorf("attribute mapping (-want +got):\n%s", diff)
	}
	bf := binding.flags()
	member := bf["--member"]
	pin := "/attribute.repository/" + req.Repository
	if req.RepositoryID != "" {
		pin = "/attribute.repository_id/" + req.RepositoryID
	}
	poolName := strings.TrimSuffix(desc.Name, "/providers/"+providerID)
	if member != "principalSet://iam.googleapis.com/"+poolName+pin {
		t.Errorf("member %q", member)
	}
	if bf["--role"] != "roles/iam.workloadIdentityUser" {
		t.Errorf("role %q", bf["--role"])
	}

	// The condition parses, and pins exactly what was asked.
	clauses, err := parseCELConjunction(desc.AttributeCondition)
	if err != nil {
		t.Fatalf("condition %q: %v", desc.AttributeCondition, err)
	}
	want := []celClause{}
	if req.RepositoryID != "" {
		want = append(want, celClause{"repository_owner_id", "==", req.OwnerID}, celClause{"repository_id", "==", req.RepositoryID})
	} else {
		owner, _, _ := strings.Cut(req.Repository, "/")
		want = append(want, celClause{"repository_owner", "==", owner}, celClause{"repository", "==", req.Repository})
	}
	if req.Environment != "" {
		want = append(want, celClause{"environment", "==", req.Environment})
	}
	switch {
	case strings.HasSuffix(req.Ref, "*"):
		want = append(want, celClause{"ref", "startsWith", strings.TrimSuffix(req.Ref, "*")})
	case req.Ref != "":
		want = append(want, celClause{"ref", "==", req.Ref})
	}
	if req.JobWorkflowRef != "" {
		want = append(want, celClause{"job_workflow_ref", "==", req.JobWorkflowRef})
	}
	want = append(want, celClause{"event_name", "!=", "pull_request_target"}, celClause{"event_name", "!=", "workflow_run"})
	if diff := cmp.Diff(want, clauses, cmp.AllowUnexported(celClause{})); diff != "" {
		t.Errorf("condition clauses (-want +got):\n%s", diff)
	}

	tf := art["terraform"].Content
	if got := tfStrings(t, tfLine(t, tf, "attribute_condition")); !slices.Equal(got, []string{desc.AttributeCondition}) {
		t.Errorf("terraform condition %q\nwant %q", got, desc.AttributeCondition)
	}
	// The member is a template: the pool's name, then the pin, literal.
	_, rhs, _ := strings.Cut(tfLine(t, tf, "member"), " = ")
	wantRHS := `"principalSet://iam.googleapis.com/${google_iam_workload_identity_pool.github.name}` + strings.TrimSuffix(hclString(pin), `"`)[1:] + `"`
	if rhs != wantRHS {
		t.Errorf("terraform member %s, want %s", rhs, wantRHS)
	}
}

func checkAzure(t *testing.T, art map[string]Artifact) {
	fic := decodeJSON(t, art["azure_fic"].Content)
	calls := runShell(t, art["azure_cli"].Content, "az")
	if len(calls) != 1 {
		t.Fatalf("azure_cli ran %d commands, want 1", len(calls))
	}
	if diff := cmp.Diff(fic, decodeJSON(t, calls[0].flags()["--parameters"])); diff != "" {
		t.Errorf("az --parameters differs from azure_fic (-want +got):\n%s", diff)
	}
	want := art["azure_fic"].JSON.(FederatedCredential)
	tf := art["terraform"].Content
	for key, v := range map[string]string{"subject": want.Subject, "issuer": want.Issuer, "display_name": want.Name, "description": want.Description} {
		if got := tfStrings(t, tfLine(t, tf, key)); !slices.Equal(got, []string{v}) {
			t.Errorf("terraform %s = %q, want %q", key, got, v)
		}
	}
	if got := tfStrings(t, tfLine(t, tf, "audiences")); !slices.Equal(got, want.Audiences) {
		t.Errorf("terraform audiences %q", got)
	}
}
