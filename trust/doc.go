// Package trust lints cloud trust configurations for GitHub Actions OIDC:
// AWS IAM role trust policies, GCP workload identity pool providers and
// their IAM bindings, and Microsoft Entra federated identity credentials.
// It backs `oidc-exchange lint FILE…`.
//
// [LintFile] reads one document with [Options] (usually [DefaultOptions]),
// detects its format (raw policy JSON, `aws iam get-role`, `gcloud iam
// workload-identity-pools providers describe`, `gcloud … get-iam-policy`,
// `az ad app federated-credential list`) and returns [Finding]s, each
// naming a [Check] from the catalogue returned by [Checks]. Every check has a page under docs/checks/ with a
// bad and a good example, the fix and the research behind it.
//
// Documents are parsed from encoding/json's token stream rather than with
// Unmarshal, because Unmarshal keeps only the last of two equal keys: two
// StringEquals blocks under one Condition would look like one, and one of
// them is what IAM ignores. The token stream also gives byte offsets, which
// become the line and column of each finding.
//
// The checks judge what each configuration admits, not how it is spelled:
// a subject pattern, a CEL attribute condition or an Azure claims-matching
// expression is reduced to the set of claim tests that must hold, and the
// broadest alternative decides whether the trust admits any repository on
// GitHub, every repository of one owner, every ref of one repository, or
// one repository and context. Anything the linter cannot read restricts
// nothing in that analysis, so uncertainty leads to a finding, not to
// silence.
//
// A [Report] collects findings from many files and writes them as a table
// ([Report.WriteTable]), a versioned JSON object ([Report.WriteJSON]) or
// SARIF 2.1.0 for code scanning ([Report.WriteSARIF]). The caller decides
// the exit status from [Report.MaxSeverity] and a threshold read with
// [ParseSeverity].
package trust
