export default {
  noNetwork: "网络未连接，联网后自动更新",
  unreachable: "无法连接服务器，正在重试…",
  stale: "离线数据",
  updatedAt: "更新于 {time}",
};
