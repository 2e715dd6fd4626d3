// Added by airkube when building kube-network-policies for a kernel without nft_queue
// (CONFIG_NFT_QUEUE unset): packets reach the same netfilter queue through the xtables NFQUEUE
// target, which nftables runs through nft_compat. Everything else is upstream's.

package dataplane

import (
	"encoding/binary"

	"github.com/google/nftables/expr"
	"github.com/google/nftables/xt"
)

// The xt_NFQ_info_v3 flag that lets packets pass while no program listens on the queue.
const xtQueueBypass = 0x01

// xtablesQueue diverts a packet to queue id, like expr.Queue, on kernels that lack nft_queue.
func xtablesQueue(id int, bypass bool) expr.Any {
	info := make([]byte, 6) // struct xt_NFQ_info_v3: queuenum, queues_total, flags
	binary.NativeEndian.PutUint16(info[0:], uint16(id))
	binary.NativeEndian.PutUint16(info[2:], 1)
	if bypass {
		binary.NativeEndian.PutUint16(info[4:], xtQueueBypass)
	}
	unknown := xt.Unknown(info)
	return &expr.Target{Name: "NFQUEUE", Rev: 3, Info: &unknown}
}
