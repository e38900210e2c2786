package plan

import (
	"strings"
)

// FederatedCredential is an Entra federated identity credential in the
// shape of `az ad app federated-credential create --parameters`.
type FederatedCredential struct {
	Name        string   `json:"name"`
	Issuer      string   `json:"issuer"`
	Subject     string   `json:"subject"`
	Description string   `json:"description,omitempty"`
	Audiences   []string `json:"audiences"`
}

// azureSubject picks the one subject a classic credential can hold; see
// [SubjectAuto].
func (s *spec) azureSubject() string {
	switch {
	case s.SubjectFormat == SubjectImmutable:
		return s.immutableSub
	case s.SubjectFormat == SubjectName || !s.hasIDs || !s.kind.ImmutableSubjects():
		return s.nameSub
	}
	return s.immutableSub
}

func (s *spec) azure() error {
	p := s.plan
	if s.Audience == "" {
		s.Audience = DefaultAzureAudience
	}
	p.Audience = s.Audience
	client := s.ClientID
	if client == "" {
		client = s.placeholder("--client-id", PlaceholderAzureClient, "the Entra application (client) id")
	}
	subject := s.azureSubject()
	p.Subjects = []string{subject}
	name := s.CredentialName
	if name == "" {
		name = deriveCredentialName("github", s.owner, s.repo, strings.ReplaceAll(strings.TrimPrefix(s.context, "ref:refs/"), "environment:", "env-"))
	}
	what := "ref " + s.Ref
	if s.Environment != "" {
		what = "environment " + s.Environment
	}
	fic := FederatedCredential{
		Name:        name,
		Issuer:      s.Issuer,
		Subject:     subject,
		Description: "GitHub Actions: " + s.Repository + ", " + what + " (oidc-exchange plan)",
		Audiences:   []string{s.Audience},
	}
	if err := s.addJSON("azure_fic", "Federated identity credential (az ad app federated-credential create --parameters)", fic); err != nil {
		return err
	}
	compact, err := marshalJSON(fic, "")
	if err != nil {
		return err
	}
	var sh strings.Builder
	sh.WriteString("# Add the credential to the application (at most 20 per application).\n")
	sh.WriteString("az ad app federated-credential create \\\n")
	sh.WriteString("  --id " + shellQuote(client) + " \\\n")
	sh.WriteString("  --parameters " + shellQuote(compact) + "\n")
	s.add(Artifact{Name: "azure_cli", Title: "Azure CLI", Kind: KindShell, Content: sh.String()})

	tf := writeHCL(
		hclPart{
			Block: hclBlock{Type: "data", Labels: []string{"azuread_application", "app"}, Body: hclObject{
				{"client_id", client},
			}},
		},
		hclPart{
			Comments: []string{"azuread provider v3: application_id is the application's resource id."},
			Block: hclBlock{Type: "resource", Labels: []string{"azuread_application_federated_identity_credential", "github"}, Body: hclObject{
				{"application_id", hclExpr("data.azuread_application.app.id")},
				{"display_name", name},
				{"description", fic.Description},
				{"issuer", s.Issuer},
				{"subject", subject},
				{"audiences", []string{s.Audience}},
			}},
		},
	)
	s.add(Artifact{Name: "terraform", Title: "Terraform", Kind: KindHCL, Content: tf})

	switch {
	case subject == s.immutableSub:
		s.note("Entra matches issuer, subject and audience exactly and case-sensitively. This credential trusts the "+
			"immutable subject %s, which GitHub issues to repositories created after its immutable-subject cut-over "+
			"(July 2026) and to those that opted in. An older repository that has not opted in presents %s and gets "+
			"AADSTS700213 (no matching federated identity record): opt it in, or plan with --subject-format name.",
			s.immutableSub, s.nameSub)
	case s.hasIDs && !s.kind.ImmutableSubjects():
		s.warn("This credential trusts the name-form subject %s: an Entra federated credential matches only the "+
			"subject and GHES issues no immutable subjects, so the ids you passed are not pinned. To pin them, "+
			"customize the repository's sub (PUT /repos/%s/actions/oidc/customization/sub with include_claim_keys "+
			"[\"repository_owner_id\", \"repository_id\", \"context\"]) and use the resulting subject.", s.nameSub, s.Repository)
	case s.hasIDs:
		s.warn("This credential trusts the name-form subject %s: an Entra federated credential matches only the "+
			"subject, so the ids you passed are not pinned. Opt the repository in to immutable subjects and plan "+
			"with --subject-format immutable.", s.nameSub)
	default:
		s.note("Entra matches issuer, subject and audience exactly and case-sensitively. Repositories created after " +
			"GitHub's immutable-subject cut-over (July 2026) present repo:OWNER@OWNER_ID/REPO@REPO_ID:… instead: " +
			"pass --repository-id and --owner-id to plan for that form.")
	}
	s.note("For a user-assigned managed identity, create the same issuer, subject and audiences with " +
		"az identity federated-credential create.")
	return nil
}
