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
// input) given to the deploy actions listed in deployActions; AWS secrets
// interpolated into run: scripts.
//
// [Report.Write] rewrites only AWS, through the goccy/go-yaml AST, and
// keeps untouched lines byte for byte. Adding a permissions block to a job
// that had none restricts its GITHUB_TOKEN to id-token: write and
// contents: read; jobs that need more (pushing, releases, packages) must
// get those scopes added by hand. GCP, Azure, Vault and deploy-token
// findings are report-only. Jobs with secrets in run: scripts, reusable
// workflow calls, aliases or flow-style permissions are reported and left
// untouched; when workflow-level keys reach a job that cannot be
// rewritten, the whole file is left untouched.
package migrate
