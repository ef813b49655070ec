package manifest

import (
	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minilet/minilet/pkg/cronschedule"
)

// maxCronJobNameLength leaves room for the Jobs' "-<minutes>" suffix, as
// the API server does.
const maxCronJobNameLength = 52

// defaultCronJob is batch/v1's SetDefaults_CronJob, with the Job
// defaults on its jobTemplate.
func defaultCronJob(cj *batchv1.CronJob) {
	s := &cj.Spec
	if s.ConcurrencyPolicy == "" {
		s.ConcurrencyPolicy = batchv1.AllowConcurrent
	}
	if s.Suspend == nil {
		s.Suspend = ptr(false)
	}
	if s.SuccessfulJobsHistoryLimit == nil {
		s.SuccessfulJobsHistoryLimit = ptr(int32(3))
	}
	if s.FailedJobsHistoryLimit == nil {
		s.FailedJobsHistoryLimit = ptr(int32(1))
	}
	job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: cj.Namespace}, Spec: s.JobTemplate.Spec}
	defaultJob(job)
	s.JobTemplate.Spec = job.Spec
}

// validateCronJob is the API server's ValidateCronJob, for what matters
// on one host.
func validateCronJob(cj *batchv1.CronJob) field.ErrorList {
	s := &cj.Spec
	sp := field.NewPath("spec")
	errs := validateMeta(&cj.ObjectMeta, field.NewPath("metadata"), "cronjob")
	if len(cj.Name) > maxCronJobNameLength {
		errs = append(errs, field.Invalid(field.NewPath("metadata", "name"), cj.Name, "must be no more than 52 characters"))
	}
	tz := ""
	if s.TimeZone != nil {
		tz = *s.TimeZone
	}
	if s.Schedule == "" {
		errs = append(errs, field.Required(sp.Child("schedule"), ""))
	} else if _, err := cronschedule.Parse(s.Schedule, tz); err != nil {
		errs = append(errs, field.Invalid(sp.Child("schedule"), s.Schedule, err.Error()))
	}
	switch s.ConcurrencyPolicy {
	case batchv1.AllowConcurrent, batchv1.ForbidConcurrent, batchv1.ReplaceConcurrent:
	default:
		errs = append(errs, field.NotSupported(sp.Child("concurrencyPolicy"), s.ConcurrencyPolicy, []string{string(batchv1.AllowConcurrent), string(batchv1.ForbidConcurrent), string(batchv1.ReplaceConcurrent)}))
	}
	for name, v := range map[string]*int32{"successfulJobsHistoryLimit": s.SuccessfulJobsHistoryLimit, "failedJobsHistoryLimit": s.FailedJobsHistoryLimit} {
		if *v < 0 {
			errs = append(errs, field.Invalid(sp.Child(name), *v, "must be greater than or equal to 0"))
		}
	}
	if d := s.StartingDeadlineSeconds; d != nil && *d < 0 {
		errs = append(errs, field.Invalid(sp.Child("startingDeadlineSeconds"), *d, "must be greater than or equal to 0"))
	}
	// The jobTemplate is checked as the Job it makes.
	job := &batchv1.Job{ObjectMeta: *s.JobTemplate.ObjectMeta.DeepCopy(), Spec: *s.JobTemplate.Spec.DeepCopy()}
	job.Name, job.Namespace = cj.Name+"-29000000", cj.Namespace
	for _, e := range validateJob(job) {
		if e.Field == "metadata.name" {
			continue
		}
		e.Field = "spec.jobTemplate." + e.Field
		errs = append(errs, e)
	}
	return errs
}
