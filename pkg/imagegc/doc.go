// Package imagegc removes images nobody uses, as the kubelet's image
// garbage collector: when the image filesystem is fuller than the high
// threshold, the least recently used images are removed until it is down
// to the low threshold; images unused for longer than the maximum age go
// whatever the usage. An image a pod uses or wants (its spec names it) is
// never removed, nor the pause image, nor one first seen less than the
// minimum age ago. Plan decides (a pure function); Manager observes and
// applies.
package imagegc
