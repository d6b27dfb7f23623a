package xray

import (
	"encoding/json"
	"strings"

	"github.com/miradorhq/mirador/internal/eventstore"
	"github.com/miradorhq/mirador/internal/otelconv"
)

// platforms maps X-Ray origins to OpenTelemetry's cloud.platform values.
var platforms = map[string]string{
	"AWS::EC2::Instance":                 "aws_ec2",
	"AWS::ECS::Container":                "aws_ecs",
	"AWS::EKS::Container":                "aws_eks",
	"AWS::ElasticBeanstalk::Environment": "aws_elastic_beanstalk",
	"AWS::Lambda::Function":              "aws_lambda",
	"AWS::AppRunner::Service":            "aws_app_runner",
}

// segmentHome builds the resource of a segment: service.name (its name),
// service.version, the origin and the aws block's environment (ec2, ecs,
// eks, elastic_beanstalk, xray, cloudwatch_logs, account_id).
func segmentHome(e *entity) (*home, error) {
	what := describe(e, false)
	var r attrs
	r.str("service.name", e.Name)
	platform := platforms[e.Origin]
	for _, k := range sortedKeys(e.Service) {
		v, ok := scalar(e.Service[k])
		if !ok {
			continue
		}
		switch k {
		case "version":
			r.value("service.version", v)
		case "runtime":
			r.value("process.runtime.name", v)
		case "runtime_version", "compiler_version":
			r.value("process.runtime.version", v)
		default:
			r.value("aws.xray.service."+k, v)
		}
	}
	r.str("aws.xray.origin", e.Origin)
	r.str("cloud.resource_id", e.ResourceARN)
	for _, k := range sortedKeys(e.AWS) {
		raw := e.AWS[k]
		var err error
		switch k {
		case "account_id":
			if v, ok := scalar(raw); ok {
				r.value("cloud.account.id", eventstore.StringValue(v.String()))
			}
		case "ec2":
			var b struct {
				InstanceID       string `json:"instance_id"`
				InstanceSize     string `json:"instance_size"`
				AmiID            string `json:"ami_id"`
				AvailabilityZone string `json:"availability_zone"`
			}
			if err = unmarshalBlock(raw, &b); err == nil {
				r.str("host.id", b.InstanceID)
				r.str("host.type", b.InstanceSize)
				r.str("host.image.id", b.AmiID)
				r.str("cloud.availability_zone", b.AvailabilityZone)
				platform = orElse(platform, "aws_ec2")
			}
		case "ecs":
			var b struct {
				Container    string `json:"container"`
				ContainerID  string `json:"container_id"`
				ContainerArn string `json:"container_arn"`
			}
			if err = unmarshalBlock(raw, &b); err == nil {
				r.str("container.name", b.Container)
				r.str("container.id", b.ContainerID)
				r.str("aws.ecs.container.arn", b.ContainerArn)
				platform = orElse(platform, "aws_ecs")
			}
		case "eks":
			var b struct {
				Pod         string `json:"pod"`
				ClusterName string `json:"cluster_name"`
				ContainerID string `json:"container_id"`
			}
			if err = unmarshalBlock(raw, &b); err == nil {
				r.str("k8s.pod.name", b.Pod)
				r.str("k8s.cluster.name", b.ClusterName)
				r.str("container.id", b.ContainerID)
				platform = orElse(platform, "aws_eks")
			}
		case "elastic_beanstalk":
			// As OpenTelemetry's Elastic Beanstalk resource detector maps them.
			var b struct {
				EnvironmentName string          `json:"environment_name"`
				VersionLabel    string          `json:"version_label"`
				DeploymentID    json.RawMessage `json:"deployment_id"`
			}
			if err = unmarshalBlock(raw, &b); err == nil {
				r.str("service.namespace", b.EnvironmentName)
				if !r.has("service.version") {
					r.str("service.version", b.VersionLabel)
				}
				if v, ok := scalar(b.DeploymentID); ok {
					r.str("service.instance.id", v.String())
				}
				platform = orElse(platform, "aws_elastic_beanstalk")
			}
		case "xray":
			var b struct {
				SDK                 string `json:"sdk"`
				SDKVersion          string `json:"sdk_version"`
				AutoInstrumentation bool   `json:"auto_instrumentation"`
			}
			if err = unmarshalBlock(raw, &b); err == nil {
				r.str("telemetry.sdk.name", b.SDK)
				r.str("telemetry.sdk.version", b.SDKVersion)
				r.flag("aws.xray.auto_instrumentation", b.AutoInstrumentation)
			}
		case "cloudwatch_logs":
			var b []struct {
				LogGroup string `json:"log_group"`
				ARN      string `json:"arn"`
			}
			if err = unmarshalBlock(raw, &b); err == nil {
				var groups, arns []string
				for _, g := range b {
					if g.LogGroup != "" {
						groups = append(groups, g.LogGroup)
					}
					if g.ARN != "" {
						arns = append(arns, g.ARN)
					}
				}
				if len(groups) > 0 {
					r.str("aws.log.group.names", jsonStrings(groups))
				}
				if len(arns) > 0 {
					r.str("aws.log.group.arns", jsonStrings(arns))
				}
			}
		}
		if err != nil {
			return nil, docErrorf(e.ID, CodeInvalidSegment, "%s: aws.%s: %v", what, k, jsonError(err))
		}
	}
	if platform != "" || strings.HasPrefix(e.Origin, "AWS::") {
		r.str("cloud.provider", "aws")
		r.str("cloud.platform", platform)
	}
	return &home{service: e.Name, stream: otelconv.StreamOf(r), resource: r}, nil
}

func orElse(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func unmarshalBlock(raw json.RawMessage, v any) error {
	if string(raw) == "null" {
		return nil
	}
	return json.Unmarshal(raw, v)
}
