package trust_test

import (
	"fmt"
	"os"

	"github.com/oidc-exchange/oidc-exchange/trust"
)

func ExampleLintFile() {
	policy := []byte(`{
  "Version": "2012-10-17",
  "Statement": [{
    "Effect": "Allow",
    "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"},
    "Action": "sts:AssumeRoleWithWebIdentity",
    "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}}
  }]
}`)
	findings, err := trust.LintFile("role.json", policy, trust.DefaultOptions())
	if err != nil {
		fmt.Println(err)
		return
	}
	r := trust.Report{Findings: findings}
	if err := r.WriteTable(os.Stdout); err != nil {
		fmt.Println(err)
	}
	failOn, _ := trust.ParseSeverity("high")
	fmt.Println("fail:", r.MaxSeverity() >= failOn)
	// Output:
	//   FILE            CHECK            SEVERITY  MESSAGE                                                                                                                             FIX
	//   role.json:7:18  aws-sub-missing  critical  no condition on "token.actions.githubusercontent.com:sub" (nor on a repository key): any repository on GitHub can assume this role  Add "StringEquals": {"token.actions.githubusercontent.com:sub": "repo:OWNER/REPO:ref:refs/heads/main"}.
	// fail: true
}
