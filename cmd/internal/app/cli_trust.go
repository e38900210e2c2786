package app

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/internal/version"
	"github.com/oidc-exchange/oidc-exchange/providers/aws"
	"github.com/oidc-exchange/oidc-exchange/providers/gcp"
	"github.com/oidc-exchange/oidc-exchange/trust"
	"github.com/oidc-exchange/oidc-exchange/trust/migrate"
	"github.com/oidc-exchange/oidc-exchange/trust/plan"
)

// exitFindings is lint's and migrate's exit code when they found something
// at or above --fail-on: the files were read fine, what they hold is wrong.
const exitFindings = 1

// findingsError reports lint or migrate findings at or above the
// threshold; the report itself was already printed.
type findingsError struct {
	count   int
	failOn  trust.Severity
	highest trust.Severity
}

func (e *findingsError) Error() string {
	return fmt.Sprintf("%d finding(s), the highest %s, at or above --fail-on %s", e.count, e.highest, e.failOn)
}

func runLint(e *env, args []string) error {
	fs := newFlagSet(e, "lint", "Lint cloud trust configurations for GitHub Actions OIDC: AWS role trust policies (raw or\n"+
		"`aws iam get-role` output), GCP workload identity providers (`gcloud … providers describe --format=json`) and\n"+
		"IAM policies, Azure federated identity credentials (`az ad app federated-credential list`). The format is detected.\n"+
		"Usage: oidc-exchange lint [flags] FILE…  (exit 1 on findings at or above --fail-on; exit 2 if a FILE could\n"+
		"not be linted, after reporting the others)")
	format := fs.String("format", "table", "table, json or sarif")
	failOn := fs.String("fail-on", "high", "lowest severity that fails: info, low, medium, high or critical")
	audience := fs.String("audience", trust.DefaultAudience, "the audience AWS trust policies should pin")
	notPrivileged := fs.Bool("not-privileged", false, "treat roles as unprivileged (lowers some subject findings)")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return &usageError{msg: "lint: name at least one FILE"}
	}
	threshold, err := trust.ParseSeverity(*failOn)
	if err != nil {
		return exchange.InputError("fail-on", "%v", err)
	}
	opts := trust.DefaultOptions()
	opts.Audience = *audience
	opts.Privileged = !*notPrivileged
	report := trust.LintFiles(fs.Args(), os.ReadFile, opts)
	if err := writeReport(e, *format, report); err != nil {
		return err
	}
	var failing int
	for _, f := range report.Findings {
		if f.Severity >= threshold {
			failing++
		}
	}
	var fe *findingsError
	if failing > 0 {
		fe = &findingsError{count: failing, failOn: threshold, highest: report.MaxSeverity()}
		fmt.Fprintf(e.stderr, "oidc-exchange lint: %v\n", fe)
	}
	if n := len(report.Errors); n > 0 {
		// An unlintable file outranks findings: the report vouches for
		// none of its trust, so a gate must not read exit 1 (or 0) as
		// "everything was checked".
		for _, fileErr := range report.Errors {
			fmt.Fprintf(e.stderr, "oidc-exchange lint: %v\n", fileErr)
		}
		return &reportedError{err: fmt.Errorf("%d of %d file(s) could not be linted: %w", n, fs.NArg(), exchange.ErrInvalidInput)}
	}
	if fe != nil {
		return &reportedError{err: fe}
	}
	return nil
}

func runPlan(e *env, args []string) error {
	fs := newFlagSet(e, "plan", "Write the least-privilege trust configuration that admits exactly one workflow context:\n"+
		"AWS trust policy and OIDC provider, GCP gcloud commands, or an Azure federated credential, each with Terraform.\n"+
		"Every plan passes `oidc-exchange lint` with no finding.")
	var r plan.Request
	var cloud, subjectFormat, format string
	fs.StringVar(&cloud, "provider", "aws", "aws, gcp or azure")
	fs.StringVar(&r.Repository, "repository", "", "owner/repo (required)")
	fs.StringVar(&r.RepositoryID, "repository-id", "", "numeric repository id (pins ids; strongly recommended)")
	fs.StringVar(&r.OwnerID, "owner-id", "", "numeric owner id (pins ids; strongly recommended)")
	fs.StringVar(&r.Ref, "ref", "", "the ref to admit, e.g. refs/heads/main or refs/tags/v* (one of --ref or --environment)")
	fs.StringVar(&r.Environment, "environment", "", "the deployment environment to admit")
	fs.StringVar(&r.JobWorkflowRef, "job-workflow-ref", "", "pin a reusable workflow: owner/repo/.github/workflows/x.yml@<protected ref or sha>")
	fs.BoolVar(&r.AllowNames, "allow-names", false, "plan on names without --repository-id/--owner-id (lint reports such plans)")
	fs.StringVar(&r.Issuer, "issuer", "", "issuer (default https://token.actions.githubusercontent.com)")
	fs.StringVar(&r.Audience, "audience", "", "audience (default per cloud)")
	fs.StringVar(&subjectFormat, "subject-format", "", "auto, name or immutable")
	fs.StringVar(&r.AccountID, "account-id", "", "aws: account id")
	fs.StringVar(&r.Partition, "partition", "", "aws: partition")
	fs.StringVar(&r.RoleName, "role-name", "", "aws: role name")
	fs.StringVar(&r.ProjectID, "project-id", "", "gcp: project id")
	fs.StringVar(&r.ProjectNumber, "project-number", "", "gcp: project number")
	fs.StringVar(&r.PoolID, "pool-id", "", "gcp: workload identity pool id")
	fs.StringVar(&r.ProviderID, "provider-id", "", "gcp: provider id")
	fs.StringVar(&r.ServiceAccount, "service-account", "", "gcp: service account email")
	fs.StringVar(&r.ClientID, "client-id", "", "azure: application (client) id")
	fs.StringVar(&r.CredentialName, "credential-name", "", "azure: federated credential name")
	fs.StringVar(&format, "format", "text", "text or json")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	r.Cloud = plan.Cloud(cloud)
	if subjectFormat != "auto" {
		r.SubjectFormat = plan.SubjectFormat(subjectFormat)
	}
	p, err := plan.Build(r)
	if err != nil {
		return err
	}
	switch format {
	case "text":
		return p.WriteText(e.stdout)
	case "json":
		return p.WriteJSON(e.stdout)
	default:
		return exchange.InputError("format", "%q is not text or json", format)
	}
}

func runMigrate(e *env, args []string) error {
	fs := newFlagSet(e, "migrate", "Find long-lived cloud credentials used from secrets in .github/workflows/*.y*ml and\n"+
		"report, per job, the oidc-exchange step, the permissions and the trust configuration that replace them.\n"+
		"--write rewrites the AWS and GCP (google-github-actions/auth credentials_json) cases in place, keeping\n"+
		"comments, order and formatting, and prints a diff; a workflow with a job it cannot rewrite is left as is,\n"+
		"and the report says why. A DIR without .github/workflows is an error (exit 2).\n"+
		"Usage: oidc-exchange migrate [flags] [DIR]  (exit 1 on findings at or above --fail-on)")
	var o migrate.Options
	format := fs.String("format", "table", "table, json or sarif")
	write := fs.Bool("write", false, "rewrite the workflows in place (AWS, GCP), then print the diff and a report of what is left")
	failOn := fs.String("fail-on", "", "exit 1 on findings at or above this severity: info, low, medium, high or critical (default: never)")
	fs.StringVar(&o.Repository, "repository", "", "owner/repo, for the trust configuration")
	fs.StringVar(&o.RepositoryID, "repository-id", "", "numeric repository id (pins ids)")
	fs.StringVar(&o.OwnerID, "owner-id", "", "numeric owner id (pins ids)")
	fs.StringVar(&o.DefaultBranch, "default-branch", "", "the repository's default branch, for workflows without push branches (no default: the plan is not built)")
	fs.StringVar(&o.RoleARN, "role-arn", "", "role ARN written into rewritten steps (default a placeholder)")
	fs.StringVar(&o.Region, "region", "", "aws-region written when the workflow sets no AWS_REGION (default a placeholder, with a warning)")
	fs.StringVar(&o.WorkloadIdentityProvider, "workload-identity-provider", "", "GCP provider for suggested and rewritten steps (default a placeholder)")
	fs.StringVar(&o.ServiceAccount, "service-account", "", "GCP service account for suggested and rewritten steps (default a placeholder)")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	dir := "."
	switch fs.NArg() {
	case 0:
	case 1:
		dir = fs.Arg(0)
	default:
		return &usageError{msg: "migrate takes at most one DIR"}
	}
	if err := validateMigrate(o); err != nil {
		return err
	}
	var threshold trust.Severity
	if *failOn != "" {
		t, err := trust.ParseSeverity(*failOn)
		if err != nil {
			return exchange.InputError("fail-on", "%v", err)
		}
		threshold = t
	}
	report, err := migrate.Scan(dir, o)
	if err != nil {
		return fmt.Errorf("%w: %w", exchange.ErrInvalidInput, err)
	}
	if *write {
		if report, err = report.Apply(); err != nil {
			return err
		}
	}
	if err := writeReport(e, *format, report); err != nil {
		return err
	}
	if failing := report.Failing(threshold); threshold != 0 && len(failing) > 0 {
		fe := &findingsError{count: len(failing), failOn: threshold, highest: report.MaxSeverity()}
		fmt.Fprintf(e.stderr, "oidc-exchange migrate: %v\n", fe)
		return &reportedError{err: fe}
	}
	return nil
}

// findingsReport is what lint and migrate print, in their three formats.
type findingsReport interface {
	WriteTable(w io.Writer) error
	WriteJSON(w io.Writer) error
	WriteSARIF(w io.Writer, toolVersion string) error
}

func writeReport(e *env, format string, r findingsReport) error {
	switch format {
	case "table":
		return r.WriteTable(e.stdout)
	case "json":
		return r.WriteJSON(e.stdout)
	case "sarif":
		return r.WriteSARIF(e.stdout, version.Get().Version)
	default:
		return exchange.InputError("format", "%q is not table, json or sarif", format)
	}
}

// validateMigrate checks the values migrate writes into workflows with the
// providers' own validators, before anything is scanned or written: a bad
// ARN would otherwise reach every rewritten job. It lives in cmd because
// trust must not import providers (internal/layout).
func validateMigrate(o migrate.Options) error {
	var errs []error
	if o.RoleARN != "" {
		errs = append(errs, aws.ValidateRoleARN(o.RoleARN))
	}
	if o.Region != "" {
		errs = append(errs, aws.ValidateRegion(o.Region))
	}
	if o.WorkloadIdentityProvider != "" {
		errs = append(errs, gcp.ValidateWorkloadIdentityProvider(o.WorkloadIdentityProvider))
	}
	if o.ServiceAccount != "" {
		errs = append(errs, gcp.ValidateEmail("service-account", o.ServiceAccount))
	}
	return errors.Join(errs...)
}
