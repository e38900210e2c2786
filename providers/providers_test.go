package providers_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/providers"
	"github.com/oidc-exchange/oidc-exchange/providers/aws"
	"github.com/oidc-exchange/oidc-exchange/providers/gcp"
)

func TestParseType(t *testing.T) {
	t.Parallel()
	if got, err := providers.ParseType("aws"); err != nil || got != providers.AWS {
		t.Fatalf("ParseType(aws) = %q, %v", got, err)
	}
	if got, err := providers.ParseType("gcp"); err != nil || got != providers.GCP {
		t.Fatalf("ParseType(gcp) = %q, %v", got, err)
	}
	_, err := providers.ParseType("azure")
	if !errors.Is(err, exchange.ErrInvalidInput) || !strings.Contains(err.Error(), `valid providers are ["aws" "broker" "gcp"]`) {
		t.Fatalf("ParseType(azure) error = %v", err)
	}
}

func TestNewAll(t *testing.T) {
	t.Parallel()
	one, err := providers.NewAll(t.Context(), providers.AWS, providers.Config{AWS: aws.Config{
		Region: "eu-west-1", RoleARN: "arn:aws:iam::111122223333:role/deploy",
	}})
	if err != nil || len(one) != 1 {
		t.Fatalf("NewAll(aws) = %v, %v", one, err)
	}
	roles, err := providers.NewAll(t.Context(), providers.AWS, providers.Config{AWS: aws.Config{
		Region: "eu-west-1", Roles: []string{"a=arn:aws:iam::111122223333:role/a", "b=arn:aws:iam::111122223333:role/b"},
	}})
	if err != nil || len(roles) != 2 {
		t.Fatalf("NewAll(aws, two roles) = %d providers, %v", len(roles), err)
	}
	if _, err := providers.NewAll(t.Context(), providers.AWS, providers.Config{}); !errors.Is(err, exchange.ErrInvalidInput) {
		t.Fatalf("NewAll(aws) without region: %v", err)
	}
	if _, err := providers.NewAll(t.Context(), "azure", providers.Config{}); !errors.Is(err, exchange.ErrInvalidInput) {
		t.Fatalf("NewAll(azure) = %v, want an invalid-input error naming the valid providers", err)
	}
	if _, err := providers.NewAll(t.Context(), providers.GCP, providers.Config{GCP: gcp.Config{
		WorkloadIdentityProvider: "projects/123456789/locations/global/workloadIdentityPools/github/providers/octo-org",
	}}); err != nil {
		t.Fatalf("NewAll(gcp) = %v", err)
	}
}

func TestAudience(t *testing.T) {
	t.Parallel()
	for region, want := range map[string]string{"eu-west-1": "sts.amazonaws.com", "cn-north-1": "sts.amazonaws.com.cn"} {
		if got, err := providers.Audience(providers.AWS, providers.Config{AWS: aws.Config{Region: region}}, ""); err != nil || got != want {
			t.Errorf("Audience(%s) = %q, %v, want %q", region, got, err, want)
		}
	}
	wip := "projects/123456789/locations/global/workloadIdentityPools/github/providers/octo-org"
	if got, err := providers.Audience(providers.GCP, providers.Config{GCP: gcp.Config{WorkloadIdentityProvider: wip}}, ""); err != nil || got != "https://iam.googleapis.com/"+wip {
		t.Errorf("Audience(gcp) = %q, %v", got, err)
	}
	if got, err := providers.Audience(providers.Broker, providers.Config{}, "https://broker.example"); err != nil || got != "https://broker.example" {
		t.Errorf("Audience(broker, set) = %q, %v", got, err)
	}
	if _, err := providers.Audience(providers.Broker, providers.Config{}, ""); !errors.Is(err, exchange.ErrInvalidInput) {
		t.Errorf("Audience(broker, unset) = %v, want ErrInvalidInput", err)
	}
}
