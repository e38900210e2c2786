package plan

import (
	"strings"
)

// WorkloadIdentityProvider is a workload identity pool provider in the shape
// `gcloud iam workload-identity-pools providers describe --format=json`
// prints once it exists: compare it with the real one, or lint it.
type WorkloadIdentityProvider struct {
	AttributeCondition string            `json:"attributeCondition"`
	AttributeMapping   map[string]string `json:"attributeMapping"`
	Name               string            `json:"name"`
	OIDC               ProviderOIDC      `json:"oidc"`
	State              string            `json:"state"`
}

// ProviderOIDC is the oidc block of a [WorkloadIdentityProvider].
type ProviderOIDC struct {
	AllowedAudiences []string `json:"allowedAudiences"`
	IssuerURI        string   `json:"issuerUri"`
}

// googleSubjectMax is the limit on google.subject: longer subjects make
// the token exchange fail.
const googleSubjectMax = 127

func (s *spec) gcp() error {
	p := s.plan
	project := s.ProjectID
	if project == "" {
		if m := saRE().FindStringSubmatch(s.ServiceAccount); m != nil {
			project = m[1]
		} else {
			project = s.placeholder("--project", PlaceholderProjectID, "the GCP project id holding the pool and the service account")
		}
	}
	number := s.ProjectNumber
	if number == "" {
		number = s.placeholder("--project-number", PlaceholderProjectNum, "the GCP project number (gcloud projects describe PROJECT --format='value(projectNumber)')")
	}
	pool := s.PoolID
	if pool == "" {
		pool = DefaultPoolID
	}
	providerID := s.ProviderID
	if providerID == "" {
		providerID = deriveWIFID(s.repo)
	}
	sa := s.ServiceAccount
	if sa == "" {
		// A domain-scoped project id has no service-account domain of its
		// own; the placeholder names a plain one.
		_, plain, scoped := strings.Cut(project, ":")
		if !scoped {
			plain = project
		}
		sa = s.placeholder("--service-account", PlaceholderSAName+"@"+plain+".iam.gserviceaccount.com", "the service account the workflow impersonates")
	}
	poolName := "projects/" + number + "/locations/global/workloadIdentityPools/" + pool
	providerName := poolName + "/providers/" + providerID
	if s.Audience == "" {
		// What oidc-exchange and google-github-actions/auth request by
		// default; listed explicitly so the provider's audience is not
		// implicit.
		s.Audience = "https://iam.googleapis.com/" + providerName
	}
	p.Audience = s.Audience

	// The condition pins the owner and the repository (by id when known),
	// then the context, and refuses the events whose tokens carry the base
	// branch's ref while running code from a pull request.
	var conds []string
	mapping := map[string]string{
		"google.subject":                "assertion.sub",
		"attribute.repository_id":       "assertion.repository_id",
		"attribute.repository_owner_id": "assertion.repository_owner_id",
	}
	var member string
	if s.hasIDs {
		conds = append(conds,
			"assertion.repository_owner_id == "+celString(s.OwnerID),
			"assertion.repository_id == "+celString(s.RepositoryID))
		member = "attribute.repository_id/" + s.RepositoryID
	} else {
		conds = append(conds,
			"assertion.repository_owner == "+celString(s.owner),
			"assertion.repository == "+celString(s.Repository))
		mapping["attribute.repository"] = "assertion.repository"
		member = "attribute.repository/" + s.Repository
	}
	if s.Environment != "" {
		conds = append(conds, "assertion.environment == "+celString(s.Environment))
		mapping["attribute.environment"] = "assertion.environment"
	}
	if s.Ref != "" {
		if s.refIsWildcard {
			conds = append(conds, "assertion.ref.startsWith("+celString(strings.TrimSuffix(s.Ref, "*"))+")")
		} else {
			conds = append(conds, "assertion.ref == "+celString(s.Ref))
		}
		mapping["attribute.ref"] = "assertion.ref"
	}
	if s.JobWorkflowRef != "" {
		conds = append(conds, "assertion.job_workflow_ref == "+celString(s.JobWorkflowRef))
		mapping["attribute.job_workflow_ref"] = "assertion.job_workflow_ref"
	}
	conds = append(conds,
		"assertion.event_name != 'pull_request_target'",
		"assertion.event_name != 'workflow_run'")
	condition := strings.Join(conds, " && ")

	// The mapping in a stable, readable order: subject, ids, names,
	// context.
	order := []string{"google.subject", "attribute.repository_id", "attribute.repository_owner_id",
		"attribute.repository", "attribute.environment", "attribute.ref", "attribute.job_workflow_ref"}
	var mappingList []string
	var mappingHCL hclObject
	for _, k := range order {
		if v, ok := mapping[k]; ok {
			mappingList = append(mappingList, k+"="+v)
			mappingHCL = append(mappingHCL, hclAttr{k, v})
		}
	}
	principal := "principalSet://iam.googleapis.com/" + poolName + "/" + member
	p.Principal = principal

	var sh strings.Builder
	sh.WriteString("# The pool, once per project (skip if it exists).\n")
	sh.WriteString("gcloud iam workload-identity-pools create " + shellQuote(pool) + " \\\n")
	sh.WriteString("  " + shellFlag("project", project) + " \\\n")
	sh.WriteString("  --location=global \\\n")
	sh.WriteString("  " + shellFlag("display-name", "GitHub Actions") + "\n\n")
	sh.WriteString("# The provider admits only tokens of the pinned repository and context.\n")
	sh.WriteString("gcloud iam workload-identity-pools providers create-oidc " + shellQuote(providerID) + " \\\n")
	sh.WriteString("  " + shellFlag("project", project) + " \\\n")
	sh.WriteString("  --location=global \\\n")
	sh.WriteString("  " + shellFlag("workload-identity-pool", pool) + " \\\n")
	sh.WriteString("  " + shellFlag("issuer-uri", s.Issuer) + " \\\n")
	sh.WriteString("  " + shellFlag("allowed-audiences", s.Audience) + " \\\n")
	sh.WriteString("  " + shellFlag("attribute-mapping", strings.Join(mappingList, ",")) + " \\\n")
	sh.WriteString("  " + shellFlag("attribute-condition", condition) + "\n\n")
	sh.WriteString("# Let exactly that repository impersonate the service account (never bind principalSet://…/*).\n")
	sh.WriteString("gcloud iam service-accounts add-iam-policy-binding " + shellQuote(sa) + " \\\n")
	sh.WriteString("  " + shellFlag("project", project) + " \\\n")
	sh.WriteString("  --role=roles/iam.workloadIdentityUser \\\n")
	sh.WriteString("  " + shellFlag("member", principal) + "\n")
	s.add(Artifact{Name: "gcloud", Title: "gcloud", Kind: KindShell, Content: sh.String()})

	desc := WorkloadIdentityProvider{
		AttributeCondition: condition,
		AttributeMapping:   mapping,
		Name:               providerName,
		OIDC:               ProviderOIDC{AllowedAudiences: []string{s.Audience}, IssuerURI: s.Issuer},
		State:              "ACTIVE",
	}
	if err := s.addJSON("gcp_provider", "The provider as gcloud … providers describe --format=json shows it", desc); err != nil {
		return err
	}

	memberHCL := hclTemplate("principalSet://iam.googleapis.com/", "google_iam_workload_identity_pool.github.name", "/"+member)
	tf := writeHCL(
		hclPart{
			Comments: []string{"The pool, once per project; if it exists, import it:",
				"terraform import google_iam_workload_identity_pool.github " + poolNameByID(project, pool)},
			Block: hclBlock{Type: "resource", Labels: []string{"google_iam_workload_identity_pool", "github"}, Body: hclObject{
				{"project", project},
				{"workload_identity_pool_id", pool},
				{"display_name", "GitHub Actions"},
			}},
		},
		hclPart{
			Comments: []string{"The provider admits only tokens of the pinned repository and context."},
			Block: hclBlock{Type: "resource", Labels: []string{"google_iam_workload_identity_pool_provider", "github"},
				Body: hclObject{
					{"project", project},
					{"workload_identity_pool_id", hclExpr("google_iam_workload_identity_pool.github.workload_identity_pool_id")},
					{"workload_identity_pool_provider_id", providerID},
					{"attribute_condition", condition},
					{"attribute_mapping", mappingHCL},
				},
				Blocks: []hclBlock{{Type: "oidc", Body: hclObject{
					{"issuer_uri", s.Issuer},
					{"allowed_audiences", []string{s.Audience}},
				}}},
			},
		},
		hclPart{
			Comments: []string{"Let exactly that repository impersonate the service account (never bind principalSet://…/*)."},
			Block: hclBlock{Type: "resource", Labels: []string{"google_service_account_iam_member", "github"}, Body: hclObject{
				{"service_account_id", "projects/" + project + "/serviceAccounts/" + sa},
				{"role", "roles/iam.workloadIdentityUser"},
				{"member", hclExpr(memberHCL)},
			}},
		},
	)
	s.add(Artifact{Name: "terraform", Title: "Terraform", Kind: KindHCL, Content: tf})

	s.gcpNotes(providerName, sa)
	return nil
}

// poolNameByID is the pool's import id with the project id.
func poolNameByID(project, pool string) string {
	return "projects/" + project + "/locations/global/workloadIdentityPools/" + pool
}

func (s *spec) gcpNotes(providerName, sa string) {
	s.note("In the workflow: workload-identity-provider: %s and service-account: %s.", providerName, sa)
	s.note("The attribute condition refuses pull_request_target and workflow_run tokens, which carry the base " +
		"branch's ref while they may run code from a pull request; drop that clause only for a workflow_run " +
		"deploy that never touches artifacts of untrusted runs.")
	subs := []string{s.nameSub}
	if s.hasIDs && s.kind.ImmutableSubjects() {
		subs = append(subs, s.immutableSub)
	}
	var long []string
	for _, sub := range subs {
		if len(sub) > googleSubjectMax {
			long = append(long, sub)
		}
	}
	if len(long) > 0 {
		s.warn("GCP limits google.subject to %d bytes and the token's sub is longer (%s): the exchange will fail. "+
			"Use a shorter environment name, or map google.subject to a shorter claim such as assertion.repository_id "+
			"plus the context.", googleSubjectMax, strings.Join(long, ", "))
	}
}
