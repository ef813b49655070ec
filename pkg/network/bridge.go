package network

import (
	"errors"
	"fmt"

	"github.com/vishvananda/netlink"
)

// RemoveBridge deletes the bridge link name (its veths went with the pods'
// network namespaces) and reports whether there was one.
func RemoveBridge(name string) (bool, error) {
	link, err := netlink.LinkByName(name)
	var notFound netlink.LinkNotFoundError
	if errors.As(err, &notFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("find bridge %s: %w", name, err)
	}
	if _, ok := link.(*netlink.Bridge); !ok {
		return false, fmt.Errorf("%s is a %s, not a bridge: left as it is", name, link.Type())
	}
	if err := netlink.LinkDel(link); err != nil {
		return false, fmt.Errorf("remove bridge %s: %w", name, err)
	}
	return true, nil
}
