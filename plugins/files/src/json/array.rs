//! The top-level array of a JSON file turned into whitespace-separated values in place: its
//! brackets and the commas between its elements become spaces, chunk by chunk, so that the
//! JSON decoder reads an array as it reads NDJSON. Strings and escapes are followed across
//! chunk boundaries, so brackets and commas inside them are left alone.

/// Where the scan stands between chunks.
#[derive(Debug, Default)]
pub struct ArrayUnwrapper {
    depth: usize,
    in_string: bool,
    escaped: bool,
}

impl ArrayUnwrapper {
    /// Blank the top-level array's own brackets and commas in the next chunk of the file.
    pub fn blank(&mut self, chunk: &mut [u8]) {
        let mut i = 0;
        while i < chunk.len() {
            if self.escaped {
                self.escaped = false;
                i += 1;
                continue;
            }
            if self.in_string {
                let Some(at) = memchr::memchr2(b'"', b'\\', &chunk[i..]) else {
                    return;
                };
                i += at;
                match chunk[i] {
                    b'\\' => self.escaped = true,
                    _ => self.in_string = false,
                }
                i += 1;
                continue;
            }
            match (chunk[i], self.depth) {
                (b'"', _) => self.in_string = true,
                (b'[', 0) => {
                    chunk[i] = b' ';
                    self.depth = 1;
                }
                (b']', 1) => {
                    chunk[i] = b' ';
                    self.depth = 0;
                }
                (b',', 1) => chunk[i] = b' ',
                (b'{' | b'[', _) => self.depth += 1,
                (b'}' | b']', _) => self.depth = self.depth.saturating_sub(1),
                _ => {}
            }
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blank_in_chunks(text: &str, size: usize) -> String {
        let mut bytes = text.as_bytes().to_vec();
        let mut unwrapper = ArrayUnwrapper::default();
        for chunk in bytes.chunks_mut(size) {
            unwrapper.blank(chunk);
        }
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn only_the_top_level_brackets_and_commas_are_blanked_whatever_the_chunking() {
        let text = "[\n {\"a\": [1, 2], \"s\": \"],[\\\"\\\\\"},\n {\"b\": {\"c\": 3}}\n]\n";
        let expected = " \n {\"a\": [1, 2], \"s\": \"],[\\\"\\\\\"} \n {\"b\": {\"c\": 3}}\n \n";
        for size in 1..=text.len() {
            assert_eq!(blank_in_chunks(text, size), expected, "chunks of {size}");
        }
    }
}
