// Package plan writes the least-privilege trust configuration for one
// GitHub Actions workflow on one cloud: the library behind
// `oidc-exchange plan`. [Build] validates a [Request] and returns a [Plan]
// whose [Artifact]s are ready to apply; [Plan.WriteText] renders them for
// people, [Plan.WriteJSON] as one JSON document.
//
// Per cloud:
//
//   - AWS: the role trust policy (JSON), the IAM OIDC identity provider
//     (--cli-input-json shape), AWS CLI commands, and Terraform
//     (aws_iam_openid_connect_provider, aws_iam_role with a jsonencode'd
//     policy).
//   - GCP: gcloud commands for the pool, the OIDC provider (attribute
//     mapping and condition) and the service-account binding, the provider
//     as `gcloud … describe --format=json` shows it, and Terraform
//     (google_iam_workload_identity_pool, …_provider,
//     google_service_account_iam_member).
//   - Azure: the federated identity credential (JSON), the az command, and
//     Terraform (azuread_application_federated_identity_credential).
//
// # What every plan pins
//
// The issuer (shared, enterprise slug, GHE.com or GHES), the audience, the
// repository and one context: a ref or an environment. A plan without a
// context is refused, and so are pull-request refs: a pull request runs
// unreviewed code and must never hold a privileged role. A reusable
// workflow is pinned by job_workflow_ref when given (AWS condition key,
// GCP condition; Azure's classic credential cannot, so it is refused
// there).
//
// # Ids, names and the immutable subject
//
// Names can be re-registered after a rename or deletion; GitHub's numeric
// repository and owner ids never are. With --repository-id and --owner-id:
//
//   - GCP pins assertion.repository_owner_id and assertion.repository_id in
//     the attribute condition and binds principalSet://…/attribute.repository_id/ID
//     (never /*). GCP matches individual claims, so the sub form does not
//     matter.
//   - AWS trusts both subject forms, repo:OWNER@OWNER_ID/REPO@REPO_ID:… (the
//     immutable form GitHub issues to repositories created after its July
//     2026 cut-over, or opted in) and repo:OWNER/REPO:… (older
//     repositories), and pins the repository_id condition key, so the name
//     form cannot be claimed by a re-registered repository and the policy
//     works before and after a repository switches. repository_owner_id is
//     not used as a key: it is not among the GitHub keys AWS is reported to
//     expose, and a missing key would make the policy match nothing; the
//     owner id is in the immutable subject.
//   - Azure's classic credential holds one exact subject and nothing else,
//     so it trusts the immutable subject; a repository that has not opted
//     in needs --subject-format name, which trusts names (and warns).
//   - GHES does not issue immutable subjects: AWS and Azure use the name
//     form there (AWS still pins repository_id).
//
// Without ids every cloud trusts names, and the plan warns.
//
// # Lint-clean by construction
//
// Every plan passes the trust linter (package trust): TestPlansLintClean
// lints the JSON artifacts of several hundred generated plans. With ids no
// finding at Low or above is allowed. Without ids only the findings that
// suggest ids (github-names-not-ids, gcp-condition-names,
// gcp-binding-names) appear, matching the plan's own warning; an Azure
// credential that trusts the name-form subject despite ids (--subject-format
// name, or GHES) draws the info-level github-names-not-ids. Inputs that
// would draw other findings are refused by [Request.Validate]: pull-request
// refs, wildcards that match every branch or tag, reusable workflows on a
// branch other than main or master.
//
// # Denial suggestions
//
// [Suggest] plans the trust of the job a verified token came from; the
// providers show its condition when a cloud denies the token, so there is
// one planner and every suggestion lints clean (TestSuggestionsLintClean).
// Providers may import this package: it depends only on exchange and the
// githubfacts leaf, and nothing here imports a provider.
//
// # Quoting
//
// JSON goes through encoding/json without HTML escaping; shell words are
// quoted for POSIX shells; CEL literals, HCL strings (including "${" and
// "%{") and IAM policy variables ("${" becomes "${$}{") are escaped.
// Environment names may hold spaces and punctuation and are quoted
// everywhere; control characters and the wildcards * and ? are refused.
package plan
