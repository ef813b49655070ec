package cluster

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

var (
	metaNode = metav1.TypeMeta{Kind: "Node", APIVersion: "v1"}
	zeroTime metav1.Time
)
