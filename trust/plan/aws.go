package plan

import (
	"slices"
	"strconv"
	"strings"

	"github.com/oidc-exchange/oidc-exchange/internal/githubfacts"
)

// TrustPolicy is an IAM role trust policy document.
type TrustPolicy struct {
	Version   string           `json:"Version"`
	Statement []TrustStatement `json:"Statement"`
}

// TrustStatement is one statement of a [TrustPolicy].
type TrustStatement struct {
	Effect    string            `json:"Effect"`
	Principal map[string]string `json:"Principal"`
	Action    string            `json:"Action"`
	// Condition maps operator → condition key → a string or a []string
	// (any of the values).
	Condition map[string]map[string]any `json:"Condition"`
}

// OIDCProviderInput is the IAM OIDC identity provider in the shape of
// `aws iam create-open-id-connect-provider --cli-input-json`.
type OIDCProviderInput struct {
	URL          string   `json:"Url"`
	ClientIDList []string `json:"ClientIDList"`
}

// awsSubjects picks the sub values to trust; see [SubjectAuto].
func (s *spec) awsSubjects() []string {
	switch {
	case s.SubjectFormat == SubjectImmutable:
		return []string{s.immutableSub}
	case s.SubjectFormat == SubjectName || !s.hasIDs || !s.kind.ImmutableSubjects():
		return []string{s.nameSub}
	}
	return []string{s.immutableSub, s.nameSub}
}

// condition is one key of an IAM condition block.
type condition struct {
	key    string // without the issuer prefix
	values []string
}

func (s *spec) aws() error {
	p := s.plan
	partition := s.Partition
	if partition == "" {
		partition = "aws"
	}
	if s.Audience == "" {
		s.Audience = DefaultAWSAudience
		if partition == "aws-cn" {
			s.Audience = DefaultAWSChinaAudience
		}
	}
	p.Audience = s.Audience
	account := s.AccountID
	if account == "" {
		account = s.placeholder("--account-id", PlaceholderAccountID, "your AWS account id")
	}
	role := s.RoleName
	if role == "" {
		role = "github-" + s.repo
		if len(role) > 64 {
			role = role[:64]
		}
	}
	providerARN := "arn:" + partition + ":iam::" + account + ":oidc-provider/" + s.prefix
	subjects := s.awsSubjects()
	p.Subjects = subjects

	conds := []condition{{"aud", []string{s.Audience}}, {"sub", subjects}}
	if s.hasIDs {
		conds = append(conds, condition{"repository_id", []string{s.RepositoryID}})
	}
	if s.Environment != "" && s.Ref != "" {
		conds = append(conds, condition{"ref", []string{s.Ref}})
	}
	if s.JobWorkflowRef != "" {
		conds = append(conds, condition{"job_workflow_ref", []string{s.JobWorkflowRef}})
	}
	condJSON := map[string]map[string]any{}
	condHCL := map[string]hclObject{}
	for _, c := range conds {
		op := "StringEquals"
		if strings.HasSuffix(c.values[0], "*") {
			// Only a trailing * of --ref gets here: StringLike where a
			// wildcard is needed, StringEquals (which never expands
			// one) everywhere else.
			op = "StringLike"
		}
		if condJSON[op] == nil {
			condJSON[op] = map[string]any{}
		}
		key := s.prefix + ":" + c.key
		vals := make([]string, len(c.values))
		for i, v := range c.values {
			vals[i] = awsLiteral(v)
		}
		if len(vals) == 1 {
			condJSON[op][key] = vals[0]
			condHCL[op] = append(condHCL[op], hclAttr{key, vals[0]})
		} else {
			condJSON[op][key] = vals
			condHCL[op] = append(condHCL[op], hclAttr{key, vals})
		}
	}

	policy := TrustPolicy{
		Version: "2012-10-17",
		Statement: []TrustStatement{{
			Effect:    "Allow",
			Principal: map[string]string{"Federated": providerARN},
			Action:    "sts:AssumeRoleWithWebIdentity",
			Condition: condJSON,
		}},
	}
	if err := s.addJSON("aws_trust_policy", "IAM role trust policy", policy); err != nil {
		return err
	}
	provider := OIDCProviderInput{URL: s.Issuer, ClientIDList: []string{s.Audience}}
	if err := s.addJSON("aws_oidc_provider", "IAM OIDC identity provider (aws iam create-open-id-connect-provider --cli-input-json)", provider); err != nil {
		return err
	}

	compact, err := marshalJSON(policy, "")
	if err != nil {
		return err
	}
	var sh strings.Builder
	sh.WriteString("# One IAM OIDC identity provider per issuer and account: skip this command if\n")
	sh.WriteString("# aws iam list-open-id-connect-providers already lists " + s.prefix + ".\n")
	sh.WriteString("aws iam create-open-id-connect-provider \\\n")
	sh.WriteString("  --url " + shellQuote(s.Issuer) + " \\\n")
	sh.WriteString("  --client-id-list " + shellQuote(s.Audience) + "\n\n")
	sh.WriteString("# The role. Attach only the permissions the job needs, never AdministratorAccess.\n")
	sh.WriteString("aws iam create-role \\\n")
	sh.WriteString("  --role-name " + shellQuote(role) + " \\\n")
	sh.WriteString("  --max-session-duration " + strconv.Itoa(DefaultMaxSessionDuration) + " \\\n")
	sh.WriteString("  --assume-role-policy-document " + shellQuote(compact) + "\n")
	s.add(Artifact{Name: "aws_cli", Title: "AWS CLI", Kind: KindShell, Content: sh.String()})

	// Terraform: the same policy, its principal referencing the provider.
	var condObj hclObject
	for _, op := range []string{"StringEquals", "StringLike"} {
		if attrs, ok := condHCL[op]; ok {
			// The JSON policy's order: encoding/json sorts map keys.
			slices.SortFunc(attrs, func(a, b hclAttr) int { return strings.Compare(a.Key, b.Key) })
			condObj = append(condObj, hclAttr{op, attrs})
		}
	}
	policyHCL := hclObject{
		{"Version", "2012-10-17"},
		{"Statement", []hclObject{{
			{"Effect", "Allow"},
			{"Action", "sts:AssumeRoleWithWebIdentity"},
			{"Principal", hclObject{{"Federated", hclExpr("aws_iam_openid_connect_provider.github.arn")}}},
			{"Condition", condObj},
		}}},
	}
	thumbprints := "Older AWS providers require a thumbprint_list."
	if s.kind == githubfacts.DotCom || s.kind == githubfacts.EnterpriseSlug {
		thumbprints = "AWS does not use thumbprints for GitHub's issuer; older AWS providers require a thumbprint_list."
	}
	tf := writeHCL(
		hclPart{
			Comments: []string{
				"One IAM OIDC identity provider per issuer and account. If it exists, import it:",
				"terraform import aws_iam_openid_connect_provider.github " + providerARN,
				thumbprints,
			},
			Block: hclBlock{Type: "resource", Labels: []string{"aws_iam_openid_connect_provider", "github"}, Body: hclObject{
				{"url", s.Issuer},
				{"client_id_list", []string{s.Audience}},
			}},
		},
		hclPart{
			Comments: []string{"Attach only the permissions the job needs, never AdministratorAccess."},
			Block: hclBlock{Type: "resource", Labels: []string{"aws_iam_role", "github"}, Body: hclObject{
				{"name", role},
				{"max_session_duration", DefaultMaxSessionDuration},
				{"assume_role_policy", hclCall{"jsonencode", policyHCL}},
			}},
		},
	)
	s.add(Artifact{Name: "terraform", Title: "Terraform", Kind: KindHCL, Content: tf})

	s.awsNotes(subjects)
	return nil
}

func (s *spec) awsNotes(subjects []string) {
	if len(subjects) == 2 {
		s.note("The sub condition lists both subject forms: GitHub issues repo:OWNER@OWNER_ID/REPO@REPO_ID:… to " +
			"repositories created after its immutable-subject cut-over (July 2026) or opted in, and " +
			"repo:OWNER/REPO:… to older ones. The repository_id condition pins the id either way, so the name " +
			"form cannot be claimed by a re-registered repository. --subject-format name or immutable keeps one.")
	}
	if s.hasIDs || s.JobWorkflowRef != "" || (s.Environment != "" && s.Ref != "") {
		s.note("The repository_id, ref and job_workflow_ref condition keys rely on AWS exposing GitHub's claims " +
			"to trust policies, which third parties report since early 2026 but AWS documentation we checked does " +
			"not confirm. A missing key fails closed: if STS denies a job whose sub matches, remove those keys " +
			"and pass --subject-format immutable, whose subject carries both ids.")
	}
	if s.refIsWildcard && s.Environment == "" {
		s.note("%s is a prefix match, so the sub condition uses StringLike; every other key uses StringEquals, "+
			"which never expands wildcards.", s.Ref)
	}
	s.note("The role's sessions last at most %d seconds (max_session_duration); raise it only for jobs that need it.",
		DefaultMaxSessionDuration)
}
