package workload

import (
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"

	"github.com/minilet/minilet/pkg/workload/names"
)

// updateRevision returns the revision of template, making it (the next
// number) when no revision has it; an older revision brought back takes
// the next number, as a rollback does.
func (s *SetRecord) updateRevision(owner string, template *v1.PodTemplateSpec) (*RevisionRecord, bool) {
	top := int64(0)
	for _, r := range s.Revisions {
		top = max(top, r.Revision)
	}
	for i := range s.Revisions {
		r := &s.Revisions[i]
		if equality.Semantic.DeepEqual(r.Template, *template) {
			if r.Revision < top {
				r.Revision = top + 1
			}
			return r, false
		}
	}
	for {
		name := owner + "-" + names.TemplateHash(template, s.CollisionCount)
		taken := false
		for _, r := range s.Revisions {
			taken = taken || r.Name == name
		}
		if !taken {
			s.Revisions = append(s.Revisions, RevisionRecord{Name: name, Revision: top + 1, Template: *template.DeepCopy()})
			return &s.Revisions[len(s.Revisions)-1], true
		}
		n := int32(1)
		if s.CollisionCount != nil {
			n = *s.CollisionCount + 1
		}
		s.CollisionCount = &n
	}
}

// revision finds a revision by name.
func (s *SetRecord) revision(name string) *RevisionRecord {
	for i := range s.Revisions {
		if s.Revisions[i].Name == name {
			return &s.Revisions[i]
		}
	}
	return nil
}

// trimRevisions drops the oldest revisions no pod uses beyond limit.
func (s *SetRecord) trimRevisions(limit int32, keep ...string) {
	used := map[string]bool{}
	for _, k := range keep {
		used[k] = true
	}
	for _, p := range s.Pods {
		used[p.Labels[revisionHashLabel]] = true
	}
	sortRevisions(s.Revisions)
	unused := 0
	for _, r := range s.Revisions {
		if !used[r.Name] {
			unused++
		}
	}
	out := s.Revisions[:0]
	for _, r := range s.Revisions {
		if !used[r.Name] && unused > int(limit) {
			unused--
			continue
		}
		out = append(out, r)
	}
	s.Revisions = out
}

func sortRevisions(rs []RevisionRecord) {
	for i := 1; i < len(rs); i++ {
		for j := i; j > 0 && rs[j].Revision < rs[j-1].Revision; j-- {
			rs[j], rs[j-1] = rs[j-1], rs[j]
		}
	}
}

// revisionHashLabel names a StatefulSet's or DaemonSet's pod's revision.
const revisionHashLabel = "controller-revision-hash"
