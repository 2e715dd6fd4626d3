// Added by airkube when building kube-network-policies for a kernel that lacks what upstream's
// dataplane relies on. Upstream's code calls these only where the build swapped them in.

package dataplane

import (
	"encoding/binary"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/xt"
)

// The xt_NFQ_info_v3 flag that lets packets pass while no program listens on the queue.
const xtQueueBypass = 0x01

// xtablesQueue diverts a packet to queue id like expr.Queue, for kernels without nft_queue
// (CONFIG_NFT_QUEUE unset): the xtables NFQUEUE target, run by nftables through nft_compat.
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

// acceptEstablished lets the packets of a connection the queue already accepted pass ("ct
// state established,related accept"). Upstream marks accepted connections with a conntrack
// label set in the queue verdict, which kernels without the nfnetlink conntrack glue
// (CONFIG_NETFILTER_NETLINK_GLUE_CT unset) ignore: without this, every reply would be judged as
// a new connection of its own and dropped.
func acceptEstablished(table *nftables.Table, chain *nftables.Chain) *nftables.Rule {
	return &nftables.Rule{
		Table: table,
		Chain: chain,
		Exprs: []expr.Any{
			&expr.Ct{Register: 0x1, Key: expr.CtKeySTATE},
			&expr.Bitwise{
				SourceRegister: 0x1,
				DestRegister:   0x1,
				Len:            4,
				Mask:           binary.NativeEndian.AppendUint32(nil, expr.CtStateBitESTABLISHED|expr.CtStateBitRELATED),
				Xor:            []byte{0, 0, 0, 0},
			},
			&expr.Cmp{Op: expr.CmpOpNeq, Register: 0x1, Data: []byte{0, 0, 0, 0}},
			&expr.Counter{},
			&expr.Verdict{Kind: expr.VerdictAccept},
		},
	}
}
