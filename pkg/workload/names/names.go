// Package names makes the names and hashes of workload objects as the
// Kubernetes controllers make them, so the same manifests give the same
// names on minilet and on a cluster of the same minor version.
package names

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/dump"
	"k8s.io/apimachinery/pkg/util/rand"
)

// TemplateHash is the pod-template-hash of a template, the controllers'
// ComputeHash: fnv32a over the template as apimachinery's dump.ForHash
// prints it (the kubelet's and controllers' DeepHashObject), then the
// collision count, encoded without vowels.
func TemplateHash(tmpl *v1.PodTemplateSpec, collisionCount *int32) string {
	h := fnv.New32a()
	fmt.Fprintf(h, "%v", dump.ForHash(*tmpl))
	if collisionCount != nil {
		b := make([]byte, 8)
		binary.LittleEndian.PutUint32(b, uint32(*collisionCount))
		h.Write(b)
	}
	return rand.SafeEncodeString(fmt.Sprint(h.Sum32()))
}

// randomSuffixLen is the length of the random part of a generated name
// (the API server's generateName).
const randomSuffixLen = 5

// maxGeneratedNameLen is how much of a generateName prefix the API
// server keeps (63 - 5).
const maxGeneratedNameLen = 63 - randomSuffixLen

// Generate is the API server's generateName: the prefix (cut to leave
// room) and five random characters of the alphabet it uses.
func Generate(prefix string) string {
	if len(prefix) > maxGeneratedNameLen {
		prefix = prefix[:maxGeneratedNameLen]
	}
	return prefix + rand.String(randomSuffixLen)
}
