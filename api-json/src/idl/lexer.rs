//! Tokens of the `.api` language, recognised with nom.
//!
//! Mirrors vppapigen's ply lexer: identifiers `[a-zA-Z_][a-zA-Z_0-9]*` (keywords looked up
//! afterwards), numbers `0x…` or `-?\d+(\.\d*)?`, C strings without newlines whose value is the
//! text with every `"` removed (escapes kept verbatim, as vppapigen does), `/* */` and `//`
//! comments, and the single-character literals `:{}[];=.,`.

use nom::branch::alt;
use nom::bytes::complete::{tag, take_until, take_while, take_while1};
use nom::character::complete::{char, digit1, hex_digit1, one_of};
use nom::combinator::{opt, recognize};
use nom::sequence::{pair, preceded, tuple};
use nom::IResult;

/// A number literal as vppapigen's lexer converts it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Num {
    Int(i128),
    Float(f64),
}

#[derive(Debug, Clone, PartialEq)]
pub enum TokKind<'a> {
    Ident(&'a str),
    Num(Num),
    /// The string value (quotes removed).
    Str(String),
    Punct(char),
    Eof,
}

/// A block comment directly before a token (nothing but whitespace between).
#[derive(Debug, Clone, PartialEq)]
pub struct LeadingComment<'a> {
    pub text: &'a str,
    /// 1-based line of the comment's last line.
    pub end_line: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token<'a> {
    pub kind: TokKind<'a>,
    /// Byte offset of the token's first character.
    pub offset: usize,
    /// 1-based line.
    pub line: u32,
    pub comment: Option<LeadingComment<'a>>,
}

/// A lexical error: byte offset and message.
#[derive(Debug, Clone, PartialEq)]
pub struct LexError {
    pub offset: usize,
    pub message: String,
}

enum Lexeme<'a> {
    BlockComment(&'a str),
    LineComment,
    Ident(&'a str),
    Num(&'a str),
    Str(&'a str),
    Punct(char),
}

fn block_comment(i: &str) -> IResult<&str, &str> {
    recognize(tuple((tag("/*"), take_until("*/"), tag("*/"))))(i)
}

fn line_comment(i: &str) -> IResult<&str, &str> {
    recognize(pair(tag("//"), take_while(|c| c != '\n')))(i)
}

fn ident(i: &str) -> IResult<&str, &str> {
    recognize(pair(
        take_while1(|c: char| c.is_ascii_alphabetic() || c == '_'),
        take_while(|c: char| c.is_ascii_alphanumeric() || c == '_'),
    ))(i)
}

fn number(i: &str) -> IResult<&str, &str> {
    alt((
        recognize(pair(alt((tag("0x"), tag("0X"))), hex_digit1)),
        recognize(tuple((
            opt(char('-')),
            digit1,
            opt(pair(char('.'), take_while(|c: char| c.is_ascii_digit()))),
        ))),
    ))(i)
}

/// `"…"` with backslash escapes, no raw newline.
fn string_lit(i: &str) -> IResult<&str, &str> {
    recognize(tuple((
        char('"'),
        nom::multi::many0_count(alt((
            take_while1(|c| c != '"' && c != '\\' && c != '\n'),
            recognize(preceded(
                char('\\'),
                nom::character::complete::satisfy(|c| c != '\n'),
            )),
        ))),
        char('"'),
    )))(i)
}

fn lexeme(i: &str) -> IResult<&str, Lexeme<'_>> {
    alt((
        nom::combinator::map(block_comment, Lexeme::BlockComment),
        nom::combinator::map(line_comment, |_| Lexeme::LineComment),
        nom::combinator::map(number, Lexeme::Num),
        nom::combinator::map(ident, Lexeme::Ident),
        nom::combinator::map(string_lit, Lexeme::Str),
        nom::combinator::map(one_of(":{}[];=.,"), Lexeme::Punct),
    ))(i)
}

fn parse_num(text: &str) -> Result<Num, String> {
    if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        return i128::from_str_radix(hex, 16)
            .map(Num::Int)
            .map_err(|_| format!("number {text} is too large"));
    }
    if text.contains('.') {
        return text
            .parse::<f64>()
            .map(Num::Float)
            .map_err(|_| format!("bad number {text}"));
    }
    text.parse::<i128>()
        .map(Num::Int)
        .map_err(|_| format!("number {text} is too large"))
}

/// Split `src` into tokens (comments dropped but remembered on the following token); the last
/// token is always [`TokKind::Eof`].
pub fn tokenize(src: &str) -> Result<Vec<Token<'_>>, LexError> {
    let mut out = Vec::new();
    let mut rest = src;
    let mut line: u32 = 1;
    let mut pending_comment: Option<LeadingComment> = None;
    loop {
        // Whitespace: ply ignores spaces/tabs and counts newlines; we accept any ASCII space.
        let ws_len = rest
            .find(|c: char| !matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0c' | '\x0b'))
            .unwrap_or(rest.len());
        let ws = &rest[..ws_len];
        line = line.saturating_add(ws.matches('\n').count() as u32);
        rest = &rest[ws_len..];
        let offset = src.len() - rest.len();
        if rest.is_empty() {
            out.push(Token {
                kind: TokKind::Eof,
                offset,
                line,
                comment: pending_comment.take(),
            });
            return Ok(out);
        }
        let (next, lx) = match lexeme(rest) {
            Ok(r) => r,
            Err(_) => {
                let message = if rest.starts_with("/*") {
                    "unterminated comment (missing `*/`)".to_string()
                } else if rest.starts_with('"') {
                    "unterminated string literal (missing closing `\"` on this line)".to_string()
                } else {
                    let c = rest.chars().next().unwrap_or('?');
                    format!("illegal character {c:?}")
                };
                return Err(LexError { offset, message });
            }
        };
        let text = &rest[..rest.len() - next.len()];
        let start_line = line;
        line = line.saturating_add(text.matches('\n').count() as u32);
        rest = next;
        let kind = match lx {
            Lexeme::BlockComment(t) => {
                pending_comment = Some(LeadingComment {
                    text: t,
                    end_line: line,
                });
                continue;
            }
            Lexeme::LineComment => {
                // A `//` comment between a doc comment and a statement detaches the doc comment
                // (vppapigen looks at the immediately preceding comment only).
                pending_comment = None;
                continue;
            }
            Lexeme::Ident(t) => TokKind::Ident(t),
            Lexeme::Num(t) => match parse_num(t) {
                Ok(n) => TokKind::Num(n),
                Err(message) => return Err(LexError { offset, message }),
            },
            Lexeme::Str(t) => TokKind::Str(t.replace('"', "")),
            Lexeme::Punct(c) => TokKind::Punct(c),
        };
        out.push(Token {
            kind,
            offset,
            line: start_line,
            comment: pending_comment.take(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<TokKind<'_>> {
        tokenize(src).unwrap().into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn basic_tokens() {
        assert_eq!(
            kinds("u8 x[0x10]; -3 1.5 \"a\\\"b\""),
            vec![
                TokKind::Ident("u8"),
                TokKind::Ident("x"),
                TokKind::Punct('['),
                TokKind::Num(Num::Int(16)),
                TokKind::Punct(']'),
                TokKind::Punct(';'),
                TokKind::Num(Num::Int(-3)),
                TokKind::Num(Num::Float(1.5)),
                TokKind::Str("a\\b".into()),
                TokKind::Eof,
            ]
        );
    }

    #[test]
    fn comments_attach_to_next_token() {
        let t = tokenize("/** doc */\ndefine x").unwrap();
        assert_eq!(t[0].comment.as_ref().unwrap().text, "/** doc */");
        assert_eq!(t[0].comment.as_ref().unwrap().end_line, 1);
        assert_eq!(t[0].line, 2);
        assert!(t[1].comment.is_none());
    }

    #[test]
    fn errors() {
        assert!(tokenize("/* open")
            .unwrap_err()
            .message
            .contains("unterminated comment"));
        assert!(tokenize("\"open\n\"")
            .unwrap_err()
            .message
            .contains("unterminated string"));
        let e = tokenize("a @").unwrap_err();
        assert_eq!(e.offset, 2);
        assert!(e.message.contains("illegal character"));
    }
}
