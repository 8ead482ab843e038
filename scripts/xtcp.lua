-- SPDX-License-Identifier: GPL-2.0
--
-- scripts/xtcp.lua - Wireshark/tshark dissector for xtcp (see
-- Documentation/protocol.md): a TCP-shaped header carried directly in IPv4
-- with IP protocol number 253 (the module's "ipproto" parameter).
--
--   tshark -X lua_script:scripts/xtcp.lua -r capture.pcap -V
--   tshark -X lua_script:scripts/xtcp.lua -X lua_script1:ipproto=200 ...
--   wireshark: copy to ~/.local/lib/wireshark/plugins/
--
-- Fields (display filters): xtcp.srcport xtcp.dstport xtcp.port xtcp.seq
-- xtcp.ack xtcp.hdr_len (bytes) xtcp.flags xtcp.flags.{fin,syn,rst,psh,ack}
-- xtcp.window xtcp.checksum xtcp.checksum.status (0 bad, 1 good,
-- 2 unverified: the segment was cut short by the capture) xtcp.reserved
-- xtcp.checksum_calculated (when bad) xtcp.option.mss
-- xtcp.option.wscale xtcp.option.tsval xtcp.option.tsecr xtcp.len
-- xtcp.payload.
--
-- Tested by selftests/dissector.sh against a capture of a real connection
-- (tshark 4.0).

local ipproto = 253
for _, a in ipairs({...}) do
	local v = a:match("^ipproto=(%d+)$")
	if v then
		ipproto = tonumber(v)
	end
end

local p = Proto("xtcp", "xtcp (TCP-like byte stream over IPv4)")

local f = {
	srcport  = ProtoField.uint16("xtcp.srcport", "Source Port", base.DEC),
	dstport  = ProtoField.uint16("xtcp.dstport", "Destination Port", base.DEC),
	port     = ProtoField.uint16("xtcp.port", "Port", base.DEC),
	seq      = ProtoField.uint32("xtcp.seq", "Sequence Number", base.DEC),
	ack      = ProtoField.uint32("xtcp.ack", "Acknowledgment Number", base.DEC),
	hdr_len  = ProtoField.uint8("xtcp.hdr_len", "Header Length", base.DEC),
	flags    = ProtoField.uint8("xtcp.flags", "Flags", base.HEX),
	fin      = ProtoField.bool("xtcp.flags.fin", "FIN", 8, nil, 0x01),
	syn      = ProtoField.bool("xtcp.flags.syn", "SYN", 8, nil, 0x02),
	rst      = ProtoField.bool("xtcp.flags.rst", "RST", 8, nil, 0x04),
	psh      = ProtoField.bool("xtcp.flags.psh", "PSH", 8, nil, 0x08),
	ackf     = ProtoField.bool("xtcp.flags.ack", "ACK", 8, nil, 0x10),
	window   = ProtoField.uint16("xtcp.window", "Window", base.DEC),
	checksum = ProtoField.uint16("xtcp.checksum", "Checksum", base.HEX),
	cstatus  = ProtoField.uint8("xtcp.checksum.status", "Checksum Status",
				    base.DEC, { [0] = "Bad", [1] = "Good",
						[2] = "Unverified" }),
	ccalc    = ProtoField.uint16("xtcp.checksum_calculated",
				     "Calculated Checksum", base.HEX),
	reserved = ProtoField.uint16("xtcp.reserved", "Reserved", base.HEX),
	mss      = ProtoField.uint16("xtcp.option.mss", "MSS", base.DEC),
	wscale   = ProtoField.uint8("xtcp.option.wscale", "Window Scale",
				    base.DEC),
	tsval    = ProtoField.uint32("xtcp.option.tsval", "Timestamp Value",
				     base.DEC),
	tsecr    = ProtoField.uint32("xtcp.option.tsecr", "Timestamp Echo Reply",
				     base.DEC),
	sack_perm = ProtoField.none("xtcp.option.sack_perm", "SACK Permitted"),
	sack_le  = ProtoField.uint32("xtcp.option.sack_le", "SACK Left Edge",
		base.DEC),
	sack_re  = ProtoField.uint32("xtcp.option.sack_re", "SACK Right Edge",
		base.DEC),
	len      = ProtoField.uint32("xtcp.len", "Payload Length", base.DEC),
	payload  = ProtoField.bytes("xtcp.payload", "Payload"),
}
p.fields = f

local e_badsum = ProtoExpert.new("xtcp.checksum.bad.expert", "Bad checksum",
				 expert.group.CHECKSUM, expert.severity.ERROR)
local e_hdrlen = ProtoExpert.new("xtcp.hdr_len.bad.expert",
				 "Bogus header length (below 20 or beyond the segment)",
				 expert.group.MALFORMED, expert.severity.ERROR)
p.experts = { e_badsum, e_hdrlen }

-- The IPv4 addresses of the enclosing header, for the pseudo-header.
local ip_src_f = Field.new("ip.src")
local ip_dst_f = Field.new("ip.dst")

local function sum16(tvb, from, to, acc)	-- bytes [from, to)
	local i = from
	while i + 1 < to do
		acc = acc + tvb(i, 2):uint()
		i = i + 2
	end
	if i < to then
		acc = acc + tvb(i, 1):uint() * 256
	end
	return acc
end

-- TCP's checksum with xtcp's protocol number (Documentation/protocol.md):
-- nil when it cannot be computed (segment cut short, no IPv4 header).
local function checksum(buf)
	if buf:len() ~= buf:reported_len() then
		return nil
	end
	local srcs, dsts = { ip_src_f() }, { ip_dst_f() }
	if #srcs == 0 or #dsts == 0 then
		return nil
	end
	-- the innermost IPv4 header is the last one (e.g. in an ICMP error)
	local src, dst = srcs[#srcs].range, dsts[#dsts].range
	if not src or not dst or src:len() ~= 4 or dst:len() ~= 4 then
		return nil
	end
	local acc = sum16(src:tvb(), 0, 4, 0)
	acc = sum16(dst:tvb(), 0, 4, acc)
	acc = acc + ipproto + buf:len()
	acc = sum16(buf, 0, 16, acc)
	acc = sum16(buf, 18, buf:len(), acc)
	while acc > 0xffff do
		acc = bit.band(acc, 0xffff) + bit.rshift(acc, 16)
	end
	return bit.band(bit.bnot(acc), 0xffff)
end

local function flag_names(fl)
	local names = {}
	if bit.band(fl, 0x02) ~= 0 then names[#names + 1] = "SYN" end
	if bit.band(fl, 0x01) ~= 0 then names[#names + 1] = "FIN" end
	if bit.band(fl, 0x04) ~= 0 then names[#names + 1] = "RST" end
	if bit.band(fl, 0x08) ~= 0 then names[#names + 1] = "PSH" end
	if bit.band(fl, 0x10) ~= 0 then names[#names + 1] = "ACK" end
	return table.concat(names, ", ")
end

function p.dissector(buf, pinfo, tree)
	if buf:len() < 20 then
		return 0
	end
	local sport = buf(0, 2):uint()
	local dport = buf(2, 2):uint()
	local hlen = bit.rshift(buf(12, 1):uint(), 4) * 4
	local fl = buf(13, 1):uint()
	local bad_hlen = hlen < 20 or hlen > buf:reported_len()
	if bad_hlen then
		hlen = 20
	end
	-- header bytes present in the capture
	local hcap = math.min(hlen, buf:len())
	-- the segment's length from the IP header, even if the capture cut
	-- it short
	local plen = buf:reported_len() - hlen

	pinfo.cols.protocol = "XTCP"
	pinfo.cols.src_port = sport
	pinfo.cols.dst_port = dport
	local info = string.format("%d → %d [%s] Seq=%d", sport, dport,
				   flag_names(fl), buf(4, 4):uint())
	if bit.band(fl, 0x10) ~= 0 then
		info = info .. string.format(" Ack=%d", buf(8, 4):uint())
	end
	info = info .. string.format(" Win=%d Len=%d", buf(14, 2):uint(), plen)

	local t = tree:add(p, buf(0, hcap), string.format(
		"xtcp, Src Port: %d, Dst Port: %d, Seq: %d, Len: %d",
		sport, dport, buf(4, 4):uint(), plen))
	t:add(f.srcport, buf(0, 2))
	t:add(f.dstport, buf(2, 2))
	t:add(f.port, buf(0, 2)):set_hidden()
	t:add(f.port, buf(2, 2)):set_hidden()
	t:add(f.seq, buf(4, 4))
	t:add(f.ack, buf(8, 4))
	local hi = t:add(f.hdr_len, buf(12, 1), hlen)
	hi:append_text(string.format(" bytes (%d)", bit.rshift(buf(12, 1):uint(), 4)))
	if bad_hlen then
		hi:add_proto_expert_info(e_hdrlen)
	end
	local ft = t:add(f.flags, buf(13, 1)):append_text(" (" .. flag_names(fl) .. ")")
	ft:add(f.ackf, buf(13, 1))
	ft:add(f.psh, buf(13, 1))
	ft:add(f.rst, buf(13, 1))
	ft:add(f.syn, buf(13, 1))
	ft:add(f.fin, buf(13, 1))
	t:add(f.window, buf(14, 2))
	local sum = buf(16, 2):uint()
	local calc = checksum(buf)
	local ci = t:add(f.checksum, buf(16, 2))
	if calc == nil then
		ci:append_text(" [unverified]")
		t:add(f.cstatus, 2):set_generated()
	elseif calc == sum then
		ci:append_text(" [correct]")
		t:add(f.cstatus, 1):set_generated()
	else
		ci:append_text(string.format(" incorrect, should be 0x%04x", calc))
		ci:add_proto_expert_info(e_badsum)
		t:add(f.cstatus, 0):set_generated()
		t:add(f.ccalc, calc):set_generated()
	end
	t:add(f.reserved, buf(18, 2))

	-- Options: EOL 0, NOP 1, MSS 2 (len 4), window scale 3 (len 3),
	-- SACK-permitted 4 (len 2), SACK 5 (len 2 + 8n: n blocks of left
	-- and right edge), timestamps 8 (len 10: TSval, TSecr), as TCP's.
	local o = 20
	while o < hcap do
		local kind = buf(o, 1):uint()
		if kind == 0 then
			break
		elseif kind == 1 then
			o = o + 1
		else
			if o + 1 >= hcap then break end
			local olen = buf(o + 1, 1):uint()
			if olen < 2 or o + olen > hcap then break end
			if kind == 2 and olen == 4 then
				t:add(f.mss, buf(o + 2, 2))
				info = info .. string.format(" MSS=%d", buf(o + 2, 2):uint())
			elseif kind == 3 and olen == 3 then
				t:add(f.wscale, buf(o + 2, 1))
				info = info .. string.format(" WS=%d", buf(o + 2, 1):uint())
			elseif kind == 4 and olen == 2 then
				t:add(f.sack_perm, buf(o, 2))
				info = info .. " SACK_PERM"
			elseif kind == 5 and olen >= 10 and (olen - 2) % 8 == 0 then
				for b = o + 2, o + olen - 8, 8 do
					t:add(f.sack_le, buf(b, 4))
					t:add(f.sack_re, buf(b + 4, 4))
					info = info .. string.format(" SLE=%u SRE=%u",
						buf(b, 4):uint(), buf(b + 4, 4):uint())
				end
			elseif kind == 8 and olen == 10 then
				t:add(f.tsval, buf(o + 2, 4))
				t:add(f.tsecr, buf(o + 6, 4))
				info = info .. string.format(" TSval=%u TSecr=%u",
					buf(o + 2, 4):uint(), buf(o + 6, 4):uint())
			end
			o = o + olen
		end
	end
	t:add(f.len, plen):set_generated()
	if buf:len() > hlen then
		t:add(f.payload, buf(hlen))
	end
	if calc ~= nil and calc ~= sum then
		info = info .. " [XTCP CHECKSUM INCORRECT]"
	end
	pinfo.cols.info = info
	return buf:len()
end

DissectorTable.get("ip.proto"):add(ipproto, p)
