"""The stylesheet that makes ``bot.chat.preview``'s HTML look like Slack. Pure data."""

STYLESHEET = """
body{margin:0;padding:16px;background:#f8f8f8;font:15px/1.47 "Lato","Helvetica Neue",
 "Liberation Sans",Arial,sans-serif;color:#1d1c1d;-webkit-font-smoothing:antialiased}
.surface{background:#fff;border:1px solid #dddddd;border-radius:8px;max-width:680px;
 overflow:hidden;box-shadow:0 1px 3px rgba(0,0,0,.08)}
.bar{font-weight:900;font-size:16px;padding:10px 16px;border-bottom:1px solid #e8e8e8}
.message{display:flex;gap:8px;padding:8px 16px 12px}
.avatar{flex:none;width:36px;height:36px;border-radius:6px;background:#1264a3;color:#fff;
 font-weight:900;font-size:13px;display:flex;align-items:center;justify-content:center}
.content{flex:1;min-width:0}
.meta b{font-weight:900}.badge{background:#e8e8e8;color:#616061;font-size:10px;
 font-weight:700;padding:1px 3px;border-radius:2px;margin:0 6px}
.time,.edited,.note,.optional,.hint,.count{color:#616061;font-size:12px}
.block{margin:4px 0}.header{font-weight:900;font-size:18px;margin:6px 0 8px}
.section{display:flex;gap:12px}.section .body{flex:1}.accessory{flex:none}
.fields{display:grid;grid-template-columns:1fr 1fr;gap:8px 16px;margin-top:4px}
.context{color:#616061;font-size:12px;display:flex;gap:8px;flex-wrap:wrap}
.actions{display:flex;gap:8px;flex-wrap:wrap;margin-top:8px}
.button{display:inline-block;border:1px solid #bbbabb;border-radius:4px;padding:3px 12px;
 font-weight:700;font-size:14px;background:#fff;white-space:nowrap}
.button.primary{background:#007a5a;border-color:#007a5a;color:#fff}
.button.danger{background:#e01e5a;border-color:#e01e5a;color:#fff}
.divider{border:0;border-top:1px solid #dddddd;margin:12px 0}
code{font:12px Monaco,Menlo,"DejaVu Sans Mono",monospace;color:#e01e5a;background:#f6f6f6;
 border:1px solid #e1e1e1;border-radius:3px;padding:0 3px}
.mention{color:#1264a3;background:#e8f5fa;border-radius:3px;padding:0 2px}
.link{color:#1264a3}.date{border-bottom:1px dotted #616061}
.quote{display:inline-block;border-left:4px solid #dddddd;padding-left:10px}
.thread{border-left:2px solid #e8e8e8;margin-top:10px;padding-left:4px}
.thread .message{padding:6px 8px}.count{color:#1264a3;font-weight:700;padding:0 8px}
.modal .title{font-weight:900;font-size:22px;padding:18px 24px;border-bottom:1px solid #e8e8e8;
 display:flex;justify-content:space-between}.x{color:#616061;font-weight:400}
.modal .blocks,.home .blocks{padding:12px 24px}.input{margin:0 0 16px}.label{font-weight:700;
 margin-bottom:6px}.field{display:flex;align-items:center;gap:6px;border:1px solid #bbbabb;
 border-radius:4px;padding:8px 10px;min-height:20px}.field.textarea{min-height:60px;
 align-items:flex-start}.field.picker{display:inline-flex;min-width:160px}
.chevron{margin-left:auto;color:#616061}.placeholder{color:#868686}.hint{margin-top:6px}
.modal .footer{display:flex;justify-content:flex-end;gap:8px;padding:16px 24px;
 border-top:1px solid #e8e8e8}.tabs{margin-left:24px;font-weight:400;font-size:14px}
.tab{margin-right:16px;color:#616061}.tab.on{color:#1d1c1d;font-weight:700;
 border-bottom:2px solid #1264a3;padding-bottom:8px}.unknown{color:#868686;font-style:italic}
.emoji{font-family:"Noto Color Emoji","Apple Color Emoji","Segoe UI Emoji",sans-serif}
"""
