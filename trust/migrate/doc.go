// Package migrate finds long-lived cloud credentials in GitHub Actions
// workflows (.github/workflows/*.yml and *.yaml) and migrates them to
// OIDC with oidc-exchange/oidc-exchange@v1.
//
// [Scan] reports, per finding, the workflow file and line, the job and the
// secret names, and per job the replacement step, the permissions the job
// needs (id-token: write) and the trust configuration from plan.Build that
// admits exactly that workflow: the repository from [Options], and the
// job's environment when it has one (as in GitHub's sub claim), else the
// ref from on: (first push branch, first push tag, else the default
// branch).
//
// Found: aws-actions/configure-aws-credentials with aws-access-key-id /
// aws-secret-access-key / aws-session-token from secrets; AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN env from secrets at workflow,
// job or step level; google-github-actions/auth with credentials_json;
// azure/login with creds; hashicorp/vault-action with method: token or a
// token from secrets; *_TOKEN / *_KEY secrets (or the known credential
// input) given to the deploy actions listed in deployActions (not
// secrets.GITHUB_TOKEN, which expires with the job); AWS secrets and the
// credentials_json secret interpolated into run: scripts. Report-only:
// AWS keys, credentials_json and other key inputs given to a local
// (uses: ./…), third-party or reusable-workflow action; setup-gcloud's
// service_account_key; azure/aks-set-context's creds; and env from
// secrets under names of a cloud key other than the three standard AWS
// ones (AWS_ACCESS_KEY, AWS_SECRET_KEY, GOOGLE_APPLICATION_CREDENTIALS_JSON,
// GCP_SA_KEY, GOOGLE_CREDENTIALS, AZURE_CLIENT_SECRET, ARM_CLIENT_SECRET, …).
//
// Scan fails when there is nothing to read (no DIR, no workflow files);
// a file that is not a workflow is a [RuleWorkflowInvalid] finding and
// each job --write leaves alone a [RuleRewriteRefused] finding with the
// reason, so no result is silent. Every rule has a severity and a page
// under docs/checks/.
//
// [Report.Write] rewrites AWS and GCP, through the goccy/go-yaml AST, and
// keeps untouched lines byte for byte. AWS: static keys become
// role-to-assume. GCP: a google-github-actions/auth step with
// credentials_json becomes an oidc-exchange step with provider: gcp,
// workload-identity-provider and service-account (from [Options], or the
// step's own workload_identity_provider and service_account); its other
// inputs are renamed to ours (project_id to project-id, …) with their
// values kept verbatim, and later references to its outputs in the job
// (steps.ID.outputs.access_token …) to our output names. A GCP step with
// an input we have no equivalent for (cleanup_credentials, delegates,
// request_reason, retries, …), a reference to its outputs we cannot
// follow (steps.ID.outputs as a whole, by index, an output we do not
// set), or its key used elsewhere in the job or the workflow's env is
// reported and not rewritten.
//
// Adding a permissions block to a job that had none restricts its
// GITHUB_TOKEN to id-token: write and contents: read; jobs that need more
// (pushing, releases, packages) must get those scopes added by hand.
// Azure, Vault, deploy-token and the report-only forms above are never
// rewritten. Jobs with
// secrets in run: scripts, reusable workflow calls, YAML anchors, aliases
// or tags (GCP), flow-style steps or with: (GCP) or flow-style
// permissions are reported and left untouched. A workflow is rewritten
// whole or not at all: when one of its AWS or GCP jobs cannot be
// rewritten, the file is left untouched and the report says which job
// stopped it.
package migrate
