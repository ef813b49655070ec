package credentials

import (
	"net/url"
	"path/filepath"
	"strings"
)

// matchImage is the kubelet's matchImages rule (URLsMatchStr): glob and
// image are parsed as URLs; their hosts have as many dot-separated parts,
// each matching as a filepath.Match glob (`*.dkr.ecr.*.amazonaws.com`);
// ports are equal; the glob's path is a prefix of the image's.
func matchImage(glob, image string) bool {
	g, err := parseNoScheme(glob)
	if err != nil {
		return false
	}
	t, err := parseNoScheme(image)
	if err != nil {
		return false
	}
	gp, tp := strings.Split(g.Hostname(), "."), strings.Split(t.Hostname(), ".")
	if len(gp) != len(tp) {
		return false
	}
	for i := range gp {
		if ok, err := filepath.Match(gp[i], tp[i]); err != nil || !ok {
			return false
		}
	}
	return g.Port() == t.Port() && strings.HasPrefix(t.Path, g.Path)
}

func parseNoScheme(s string) (*url.URL, error) {
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	return url.Parse(s)
}
