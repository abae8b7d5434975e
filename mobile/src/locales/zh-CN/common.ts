export default {
  appName: "金哨",
  offline: "网络未连接",
  serverUnreachable: "无法连接服务器，请稍后再试",
  unexpected: "出现错误（{status}），请稍后再试",
};
