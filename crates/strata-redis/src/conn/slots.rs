//! Which cluster master owns which hash slot, so a batch can send one pipeline per node.

use redis::Value;

/// The number of hash slots in a Redis Cluster.
pub(crate) const SLOTS: u16 = 16_384;

/// The hash slot of a Redis key: CRC16 (XMODEM) of the key, or of its hash tag (the bytes
/// between the first `{` and the next `}`, when not empty), modulo 16,384.
pub(crate) fn slot_of(key: &[u8]) -> u16 {
    let hashed = key
        .iter()
        .position(|&b| b == b'{')
        .and_then(|open| {
            let rest = &key[open + 1..];
            rest.iter()
                .position(|&b| b == b'}')
                .filter(|&close| close > 0)
                .map(|close| &rest[..close])
        })
        .unwrap_or(key);
    crc16::State::<crc16::XMODEM>::calculate(hashed) % SLOTS
}

/// Slot ranges and the master serving each, from `CLUSTER SLOTS`.
#[derive(Clone, Debug, Default)]
pub(crate) struct SlotMap {
    /// `(first slot, last slot, master index)`, sorted by first slot.
    ranges: Vec<(u16, u16, usize)>,
    /// `host:port` of each master.
    masters: Vec<String>,
}

impl SlotMap {
    /// Reads a `CLUSTER SLOTS` reply; `None` when it has an unexpected shape.
    pub(crate) fn from_cluster_slots(reply: &Value) -> Option<SlotMap> {
        let Value::Array(rows) = reply else {
            return None;
        };
        let mut map = SlotMap::default();
        for row in rows {
            let Value::Array(fields) = row else {
                return None;
            };
            let (Some(Value::Int(start)), Some(Value::Int(end)), Some(Value::Array(master))) =
                (fields.first(), fields.get(1), fields.get(2))
            else {
                return None;
            };
            let host = match master.first()? {
                Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
                Value::SimpleString(s) => s.clone(),
                _ => return None,
            };
            let Value::Int(port) = master.get(1)? else {
                return None;
            };
            let addr = format!("{host}:{port}");
            let index = match map.masters.iter().position(|m| *m == addr) {
                Some(i) => i,
                None => {
                    map.masters.push(addr);
                    map.masters.len() - 1
                }
            };
            let start = u16::try_from(*start).ok().filter(|s| *s < SLOTS)?;
            let end = u16::try_from(*end)
                .ok()
                .filter(|e| *e < SLOTS && *e >= start)?;
            map.ranges.push((start, end, index));
        }
        map.ranges.sort_unstable();
        Some(map)
    }

    /// The master serving `slot`, if the map knows one.
    pub(crate) fn master_of(&self, slot: u16) -> Option<usize> {
        let i = self.ranges.partition_point(|&(start, _, _)| start <= slot);
        let &(start, end, master) = self.ranges.get(i.checked_sub(1)?)?;
        (start <= slot && slot <= end).then_some(master)
    }

    /// One slot served by each master (to route a command to that master), in master order.
    pub(crate) fn master_slots(&self) -> Vec<u16> {
        (0..self.masters.len())
            .filter_map(|m| {
                self.ranges
                    .iter()
                    .find(|&&(_, _, owner)| owner == m)
                    .map(|&(start, _, _)| start)
            })
            .collect()
    }

    /// `host:port` of each master.
    pub(crate) fn masters(&self) -> &[String] {
        &self.masters
    }

    /// True when every slot has a master.
    pub(crate) fn is_complete(&self) -> bool {
        let covered: u32 = self
            .ranges
            .iter()
            .map(|&(s, e, _)| u32::from(e - s) + 1)
            .sum();
        covered == u32::from(SLOTS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_match_redis() {
        // Values from `CLUSTER KEYSLOT`.
        assert_eq!(slot_of(b"foo"), 12182);
        assert_eq!(slot_of(b"bar"), 5061);
        assert_eq!(slot_of(b"{user1000}.following"), slot_of(b"user1000"));
        assert_eq!(slot_of(b"foo{}{bar}"), slot_of(b"foo{}{bar}"));
        assert_eq!(slot_of(b"foo{}{bar}"), 8363);
        assert_eq!(slot_of(b"foo{{bar}}zap"), slot_of(b"{bar"));
    }

    fn node(host: &str, port: i64) -> Value {
        Value::Array(vec![
            Value::BulkString(host.as_bytes().to_vec()),
            Value::Int(port),
            Value::BulkString(b"id".to_vec()),
        ])
    }

    #[test]
    fn cluster_slots_are_read() {
        let reply = Value::Array(vec![
            Value::Array(vec![
                Value::Int(5461),
                Value::Int(10922),
                node("127.0.0.1", 7001),
            ]),
            Value::Array(vec![
                Value::Int(0),
                Value::Int(5460),
                node("127.0.0.1", 7000),
            ]),
            Value::Array(vec![
                Value::Int(10923),
                Value::Int(16383),
                node("127.0.0.1", 7002),
            ]),
        ]);
        let map = SlotMap::from_cluster_slots(&reply).unwrap();
        assert!(map.is_complete());
        assert_eq!(map.masters().len(), 3);
        assert_eq!(map.masters()[map.master_of(0).unwrap()], "127.0.0.1:7000");
        assert_eq!(
            map.masters()[map.master_of(5461).unwrap()],
            "127.0.0.1:7001"
        );
        assert_eq!(
            map.masters()[map.master_of(16383).unwrap()],
            "127.0.0.1:7002"
        );
        assert_eq!(map.master_slots(), vec![5461, 0, 10923]);
        assert!(SlotMap::from_cluster_slots(&Value::Int(3)).is_none());
        let bad = Value::Array(vec![Value::Array(vec![
            Value::Int(9),
            Value::Int(3),
            node("h", 1),
        ])]);
        assert!(SlotMap::from_cluster_slots(&bad).is_none());
    }
}
